"""Issued documents: decision letters, cooperation agreements, receipt copies; PDF, versions, verification."""
