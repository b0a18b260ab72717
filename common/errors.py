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


class InvalidInput(DrtError):
    code = "invalid_input"
    http_status = 422


class NotAuthenticated(DrtError):
    code = "not_authenticated"
    http_status = 401


class Forbidden(DrtError):
    code = "forbidden"
    http_status = 403


class NotFound(DrtError):
    code = "not_found"
    http_status = 404


class IdempotencyKeyRequired(DrtError):
    code = "idempotency_key_required"
    http_status = 400


class IdempotencyKeyReused(DrtError):
    code = "idempotency_key_reused"
    http_status = 422


class ServiceBusy(DrtError):
    """Try again shortly (the writer is busy, or was fenced mid-turn)."""

    code = "service_busy"
    http_status = 503


class ServiceUnavailable(DrtError):
    """A service the platform depends on (PostgreSQL, Redis) is down; clients retry."""

    code = "service_unavailable"
    http_status = 503


class TooManyAttempts(DrtError):
    """Too many wrong codes, passwords or PINs, or too many requests: wait ``retry_after_s``."""

    code = "too_many_attempts"
    http_status = 429


class InvalidText(DrtError):
    """Text with a NUL character or an unpaired surrogate (nothing can store or show it)."""

    code = "invalid_text"
    http_status = 422


class BodyTooLarge(DrtError):
    code = "body_too_large"
    http_status = 413


class DatabaseUnavailable(DrtError):
    """PostgreSQL (or the embedded SQLite) did not answer; clients retry after ``Retry-After``."""

    code = "database_unavailable"
    http_status = 503


class RedisUnavailable(DrtError):
    """Redis did not answer; clients retry after ``Retry-After``."""

    code = "redis_unavailable"
    http_status = 503


class InternalError(DrtError):
    """A bug: logged with its traceback, answered without details."""

    code = "internal_error"
    http_status = 500
