"""Shared plumbing for every service package: settings, errors, database, Redis and auth."""
