"""Organisations that apply: profiles, members and invitations."""
