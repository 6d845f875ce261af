"""Amendments to a funded idea's agreement: asked by the applicant, decided by an administrator."""
