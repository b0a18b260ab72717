"""Booking service: residents, quotes, bookings and phone operators (FastAPI)."""
