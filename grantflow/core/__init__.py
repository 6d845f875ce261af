"""Shared basics every area builds on: configuration, the database and its column types,
languages and formats, the web plumbing (error pages, headers, filters) and forms' helpers."""
