"""Bodies of the residents domain (pydantic): people, tokens, link codes, audit entries."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from common.japanese import katakana

Eligibility = Literal["resident", "commuter", "student"]
PHONE_SEPARATORS = frozenset(" -.()\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc")
"""What people put between the digits of a phone number: spaces, hyphens, dots, brackets,
dashes and minus signs, and the long-vowel mark ー that Japanese keyboards type for a hyphen."""


def normalize_phone(value: str) -> str:
    """The ASCII digits of a phone number as typed (full-width ０９０-１２３４-５６７８ too).

    NFKC first (full-width digits and hyphens become ASCII), then only ASCII digits and
    the usual separators are allowed; 10 or 11 digits are kept, without the separators.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if any(not ("0" <= ch <= "9") and ch not in PHONE_SEPARATORS for ch in text):
        raise ValueError(
            "phone may contain only digits, spaces, hyphens and brackets "
            "(電話番号は数字とハイフンで入力してください)"
        )
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if not 10 <= len(digits) <= 11:
        raise ValueError("phone must have 10 or 11 digits (電話番号は10桁か11桁です)")
    return digits


def normalize_code(value: str) -> str:
    """A one-time code as typed: NFKC (full-width digits become ASCII), no spaces around."""
    return unicodedata.normalize("NFKC", value).strip()


PhoneNumber = Annotated[
    str,
    Field(min_length=10, max_length=20, description="電話番号(ハイフン可、全角も可)"),
    AfterValidator(normalize_phone),
]
"""A phone number input: stored and compared as its ASCII digits (``normalize_phone``)."""


def normalize_kana(value: str) -> str:
    """A reading as stored and searched: NFKC (half-width ｶﾀｶﾅ become full-width), hiragana as
    katakana (ふるかど → フルカド), one ASCII space between words."""
    text = unicodedata.normalize("NFKC", value)
    text = katakana(text)
    return " ".join(text.split())


Kana = Annotated[
    str,
    Field(min_length=1, max_length=80, description="読み(カタカナまたはひらがな)"),
    AfterValidator(normalize_kana),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResidentCreate(Strict):
    name: str = Field(min_length=1, max_length=80)
    kana: Kana
    phone: PhoneNumber
    address: str = Field(min_length=1, max_length=200)
    birth_year: int = Field(ge=1900, le=2100)
    eligibility: Eligibility = "resident"
    wheelchair: bool = False
    needs_help: bool = False
    consent: bool = Field(description="個人情報の利用に同意したか (must be true)")
    line_user_id: str | None = Field(None, max_length=128)


class Resident(BaseModel):
    id: str
    name: str
    kana: str
    phone: str
    address: str
    birth_year: int
    eligibility: str
    wheelchair: bool
    needs_help: bool
    suspended: bool
    channels: list[str]
    closed_at: datetime | None = Field(None, description="closed at the resident's request")


class ResidentRegistered(BaseModel):
    resident: Resident
    token: str | None = Field(None, description="a resident token (channel clients only)")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class ResidentLogin(Strict):
    phone: PhoneNumber
    code: str = Field(min_length=4, max_length=12)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        return normalize_code(v)


class LinkCode(BaseModel):
    code: str
    expires_at: datetime


class ResidentSearch(BaseModel):
    results: list[Resident]


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_kind: str = Field(description="staff | resident (on LINE or the app)")
    actor_id: str
    actor_name: str = Field(description="the staff account's name, or the resident's")
    action: str
    resident_id: str | None
    booking_id: str | None
    details: dict[str, object]


StaffRole = Literal["operator", "admin", "channel"]


class StaffAccount(BaseModel):
    """A staff account as admins see it (never its password)."""

    id: str
    username: str
    display_name: str
    role: StaffRole
    active: bool


class StaffCreate(Strict):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,31}$", description="e.g. tanaka.h")
    display_name: str = Field(min_length=1, max_length=40)
    role: StaffRole
    password: str = Field(min_length=10, max_length=128)


class StaffUpdate(Strict):
    display_name: str | None = Field(None, min_length=1, max_length=40)
    role: StaffRole | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=128)
