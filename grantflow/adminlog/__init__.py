"""The administration log: who changed what in the programme's set-up, before and after."""
