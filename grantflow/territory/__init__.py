"""Municipalities and parishes, loaded from a data file."""
