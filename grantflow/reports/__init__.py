"""Final reports of funded ideas: activities, people reached, spending against the budget."""
