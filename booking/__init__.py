"""The app and operator REST API: a channel over the core (trips) and the residents domain."""
