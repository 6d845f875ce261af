"""Evaluation: eligibility screening, evaluator assignments, conflicts, reviews, scores and ranking."""
