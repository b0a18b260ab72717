"""The LINE channel: residents book, check and cancel rides from the town's LINE account.

``webhook`` (the endpoint and the app's LINE lifespan), ``conversation`` (the dialogue as a
state machine over the booking service), ``messages`` (texts, quick replies and Flex
messages in plain Japanese), ``sender`` (the Messaging API: replies, pushes, rich menu),
``notify`` (pushes at the right moments of a day), ``standin`` (a local LINE platform for
tests and the demo). See docs/line.md.
"""
