"""Locust load tests against the booking and driver APIs."""
