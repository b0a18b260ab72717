"""Driver tablet API: shifts, GPS, manifests and stop events."""
