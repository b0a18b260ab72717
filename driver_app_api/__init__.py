"""The vehicle and driver side: tablets, shifts, GPS, manifests and stop events."""
