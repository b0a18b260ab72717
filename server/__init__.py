"""The composition root: the FastAPI app and its lifespan, seed data, the demo, migrations."""
