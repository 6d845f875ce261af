"""Exports for administrators (applications, reviews, decisions, documents, reports as CSV or
XLSX, built on the task queue) and personal data (a person's own data as a zip, erasure and
pseudonymisation, the retention sweep). It reads every area, so it sits near the top of the
layers."""
