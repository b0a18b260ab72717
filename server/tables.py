"""Every package's tables on ``Base.metadata``, without the app: migrations import this
(``drt serve`` runs them before its workers start, and importing the whole app there cost a
second of every start-up)."""

from __future__ import annotations


def register_tables() -> None:
    """Every package's tables on ``Base.metadata`` (for migrations and schema checks)."""
    import core.models  # noqa: F401
    import driver_app_api.models  # noqa: F401
    import line_channel.models  # noqa: F401
    import residents.models  # noqa: F401
    import town.models  # noqa: F401
