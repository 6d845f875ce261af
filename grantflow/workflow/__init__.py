"""The workflow engine: definitions loaded from files, firing transitions, the append-only audit.

It imports no area: areas register roles, guards, effects, tags and audit kinds into it."""
