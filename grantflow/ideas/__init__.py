"""The idea (application): its form, drafts, files, submission, its page and workflow steps."""
