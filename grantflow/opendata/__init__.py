"""Open data: the programme's funded grants in the 360Giving Data Standard."""
