"""Residents: the town's one base of people (and the staff who serve them).

Every channel (the app API, phone operators, LINE) and every town service attaches to
``residents.id``: people, their consent, their linked channels, and how they (and staff)
authenticate. The audit log lives here too, because every domain above writes to it.
"""
