"""Funding decisions within the budget (the funding board) and the municipality's cooperation."""
