"""Test suite of the Kurate DRT platform."""
