"""One error base class for the whole platform.

Every error a person may see carries a machine-readable ``code``, an HTTP status for the
service layer, and a message in Japanese (first) and English that says what to do next.
Domain packages subclass :class:`DrtError`; one handler in each front end renders them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DrtError(Exception):
    """Base of every expected, user-facing error."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message_ja: str, message_en: str, **details: Any) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt with both messages and the details (errors cross process pools)."""
        return (_rebuild, (type(self), self.message_ja, self.message_en, self.details))

    def to_dict(self) -> dict[str, Any]:
        """The JSON body a client receives: stable code, both messages, and structured details."""
        return {
            "code": self.code,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
            "details": self.details,
        }

    def __str__(self) -> str:
        return f"[{self.code}] {self.message_ja} / {self.message_en}"


def _rebuild(
    cls: type[DrtError], message_ja: str, message_en: str, details: dict[str, Any]
) -> DrtError:
    return cls(message_ja, message_en, **details)


class ConfigError(DrtError):
    """A configuration or data file is missing or invalid."""

    code = "config_invalid"
    http_status = 500
