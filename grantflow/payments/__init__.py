"""Payments: each funded idea's schedule of instalments, SEPA payment runs, payments made
another way, and refunds when the accepted report shows less spent than was paid."""
