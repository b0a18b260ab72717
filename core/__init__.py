"""The operations core beneath every channel: the dispatcher host (single writer, log,
replica), the world (meeting points, places, travel times), the service rules (calendar,
fares, policies) and the trip use cases every channel books through."""
