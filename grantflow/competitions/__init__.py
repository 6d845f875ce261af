"""Competitions: their set-up (dates, budget, grant range, workflow) and scoring criteria."""
