"""People who log in: accounts, roles across the programme, sessions, passwords, login limits."""
