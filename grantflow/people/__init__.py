"""People and roles for administrators, everyone's own profile, and the administration log's page."""
