"""Shared building blocks: the event log, identifiers, SMS backends, security middleware."""
