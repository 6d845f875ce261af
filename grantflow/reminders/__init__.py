"""Reminders: what is due soon or overdue, mailed once per person and occasion by a periodic task."""
