"""Planner simulation of service days on the real dispatch engine."""
