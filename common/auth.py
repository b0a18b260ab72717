"""Password hashing and opaque tokens, with the standard library only.

Passwords (operator staff, drivers) are hashed with scrypt; the stored string carries its
own parameters and salt::

    scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>

so the cost can be raised later without invalidating old hashes (see :func:`needs_rehash`).
Passwords are NFKC-normalised first: a PIN typed with full-width digits on a Japanese IME
(``１２３４``) is the same secret as ``1234``.

Device and API tokens are random strings given to the client once; only their SHA-256
hex digest is stored (:func:`hash_token`), which is enough for high-entropy secrets.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import unicodedata

SCHEME = "scrypt"
DEFAULT_LOG2_N = 15
"""N = 2**15, r = 8: 32 MiB and roughly 0.1 s per hash on a server core."""
DEFAULT_R = 8
DEFAULT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_MAX_LOG2_N = 20  # refuse absurd costs from a tampered hash string instead of exhausting memory


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int, dklen: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        unicodedata.normalize("NFKC", password).encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=dklen,
        maxmem=128 * r * (n + p + 2) + 1024 * 1024,
    )


def hash_password(
    password: str,
    *,
    log2_n: int = DEFAULT_LOG2_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
) -> str:
    """Hash ``password`` with a fresh random salt; returns the string to store."""
    if not password:
        raise ValueError("empty password")
    if not 1 <= log2_n <= _MAX_LOG2_N or r < 1 or p < 1:
        raise ValueError(f"invalid scrypt parameters log2_n={log2_n}, r={r}, p={p}")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, log2_n, r, p, KEY_BYTES)
    return f"{SCHEME}${log2_n}${r}${p}${_b64encode(salt)}${_b64encode(key)}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError("not a password hash made by hash_password()")
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _b64decode(parts[4]), _b64decode(parts[5])
    except ValueError as exc:
        raise ValueError("corrupt password hash") from exc
    if not 1 <= log2_n <= _MAX_LOG2_N or r < 1 or p < 1 or not salt or len(key) < 16:
        raise ValueError("corrupt password hash")
    return log2_n, r, p, salt, key


@functools.cache
def dummy_hash() -> str:
    """A password hash nobody's password matches: checked for an unknown user name or driver
    number, so answering takes as long as for a known one (timing tells nothing)."""
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches the stored hash ``encoded`` (constant-time compare).

    Raises ``ValueError`` if ``encoded`` is not a hash made by :func:`hash_password`:
    that is corrupt data, not a wrong password, and must not be silently ignored.
    """
    log2_n, r, p, salt, key = _parse(encoded)
    candidate = _scrypt(password, salt, log2_n, r, p, len(key))
    return hmac.compare_digest(candidate, key)


def needs_rehash(
    encoded: str,
    *,
    log2_n: int = DEFAULT_LOG2_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
) -> bool:
    """True if ``encoded`` was made with other parameters: rehash after the next login."""
    stored_log2_n, stored_r, stored_p, _salt, _key = _parse(encoded)
    return (stored_log2_n, stored_r, stored_p) != (log2_n, r, p)


def new_token(nbytes: int = 32) -> str:
    """A new random URL-safe token (``nbytes`` of entropy) to hand to a device or client."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of ``token``: what the database stores and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_token(token: str, token_hash: str) -> bool:
    """True if ``token`` hashes to ``token_hash`` (constant-time compare)."""
    return hmac.compare_digest(hash_token(token), token_hash)
