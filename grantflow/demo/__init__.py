"""Demo data: the brochure's funded ideas and an open competition, loaded through the real engine."""
