"""Pages made of several areas: the home page for each role and the administrators' overview."""
