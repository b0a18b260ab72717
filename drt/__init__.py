"""The `drt` command line: one entry point for every job of the platform."""
