"""The programme's impact: funded ideas, money and what the final reports say was achieved."""
