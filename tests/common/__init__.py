"""Tests of the shared plumbing package ``common``."""
