from __future__ import annotations

import hashlib

import pytest

from common.auth import (
    DEFAULT_LOG2_N,
    hash_password,
    hash_token,
    needs_rehash,
    new_token,
    verify_password,
    verify_token,
)

FAST = 10  # log2 N for tests that do not care about the cost


def test_hash_and_verify_with_default_parameters() -> None:
    encoded = hash_password("くらて-2024!")
    assert encoded.startswith(f"scrypt${DEFAULT_LOG2_N}$8$1$")
    assert "くらて" not in encoded
    assert verify_password("くらて-2024!", encoded)
    assert not needs_rehash(encoded)


def test_wrong_password_fails() -> None:
    encoded = hash_password("correct horse", log2_n=FAST)
    assert not verify_password("correct hors", encoded)
    assert not verify_password("Correct horse", encoded)
    assert not verify_password("", encoded)
    assert verify_password("correct horse", encoded)


def test_hashes_are_salted() -> None:
    first = hash_password("1234", log2_n=FAST)
    second = hash_password("1234", log2_n=FAST)
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("1234", first)
    assert verify_password("1234", second)


def test_full_width_input_matches_half_width() -> None:
    encoded = hash_password("1234", log2_n=FAST)
    assert verify_password("１２３４", encoded)
    assert not verify_password("１２３５", encoded)


def test_parameters_are_read_from_the_stored_string() -> None:
    encoded = hash_password("pw", log2_n=FAST, r=4, p=2)
    assert encoded.split("$")[:4] == ["scrypt", str(FAST), "4", "2"]
    assert verify_password("pw", encoded)
    assert needs_rehash(encoded)
    assert not needs_rehash(encoded, log2_n=FAST, r=4, p=2)


def test_tampered_hash_does_not_verify() -> None:
    encoded = hash_password("pw", log2_n=FAST)
    head, key = encoded.rsplit("$", 1)
    flipped = ("B" if key[0] == "A" else "A") + key[1:]
    assert not verify_password("pw", f"{head}${flipped}")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plaintext",
        "bcrypt$10$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5",
        "scrypt$x$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5",
        "scrypt$40$8$1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5",  # absurd cost: refused, not run
        "scrypt$10$8$1$$a2V5a2V5a2V5a2V5a2V5a2V5",
    ],
)
def test_malformed_hash_is_an_error_not_a_mismatch(bad: str) -> None:
    with pytest.raises(ValueError, match="password hash"):
        verify_password("pw", bad)


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="empty password"):
        hash_password("")


def test_new_tokens_are_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(token) >= 43  # 32 bytes of entropy
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_token_hash_is_stable_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    token = new_token()
    assert hash_token(token) == hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert hash_token(token) != hash_token(token + "x")
    assert verify_token(token, hash_token(token))
    assert not verify_token(token, hash_token(new_token()))
