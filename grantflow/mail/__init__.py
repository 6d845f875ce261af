"""The mail outbox: mails written in the same transaction as the change they tell of, then sent."""
