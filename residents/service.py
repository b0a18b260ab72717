"""Use cases of the residents domain: people, consent, linked channels and who is asking.

Functions take the session and the acting user and never commit: the request dependency
(or the writer turn of a use case above) does.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from common.auth import dummy_hash, hash_password, hash_token, new_token, verify_password
from common.clock import now_utc
from common.errors import DrtError, Forbidden, InvalidInput, NotAuthenticated, NotFound
from common.ids import new_id
from common.ratelimit import Attempts
from residents import models as m
from residents import schemas as s
from residents.schemas import PHONE_SEPARATORS, normalize_kana

STAFF_TOKEN_TTL = timedelta(hours=12)
RESIDENT_TOKEN_TTL = timedelta(days=180)
LINK_CODE_TTL = timedelta(hours=24)
ROLES = ("operator", "admin", "channel")


class PhoneAlreadyRegistered(InvalidInput):
    code = "phone_already_registered"
    http_status = 409


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: a resident, or staff with a role (operator, admin, channel)."""

    kind: Literal["staff", "resident"]
    id: str
    role: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


# -- authentication ----------------------------------------------------------------------


def issue_token(session: Session, kind: str, subject_id: str, ttl: timedelta) -> s.Token:
    token = new_token()
    now = now_utc()
    session.add(m.Token(token_hash=hash_token(token), kind=kind, subject_id=subject_id,
                        created_at=now, expires_at=now + ttl))  # fmt: skip
    return s.Token(access_token=token, expires_at=now + ttl)


def staff_login(session: Session, attempts: Attempts, username: str, password: str) -> s.Token:
    """A staff token; a handful of wrong passwords for a user name locks it out for a while.

    An unknown user name costs the same password check as a known one, so timing does not
    tell which user names exist."""
    subject = unicodedata.normalize("NFKC", username).strip().lower()
    attempts.check("staff", subject)
    staff = session.scalar(select(m.Staff).where(m.Staff.username == username))
    stored = staff.password_hash if staff is not None else dummy_hash()
    right = verify_password(password, stored)
    if staff is None or not staff.active or not right:
        attempts.failed("staff", subject)
        raise NotAuthenticated(
            "ユーザー名またはパスワードが違います。",
            "Wrong user name or password.",
        )
    attempts.succeeded("staff", subject)
    return issue_token(session, "staff", staff.id, STAFF_TOKEN_TTL)


def authenticate(session: Session, token: str | None) -> Actor:
    if not token:
        raise NotAuthenticated(
            "ログインが必要です(トークンがありません)。",
            "Authentication required: send a bearer token.",
        )
    row = session.get(m.Token, hash_token(token))
    if row is None or row.expires_at <= now_utc():
        raise NotAuthenticated(
            "ログインの有効期限が切れたか、正しくありません。もう一度ログインしてください。",
            "The token is invalid or has expired. Please log in again.",
        )
    if row.kind == "staff":
        staff = session.get(m.Staff, row.subject_id)
        if staff is None or not staff.active:
            raise NotAuthenticated("このアカウントは使えません。", "This account is disabled.")
        return Actor("staff", staff.id, staff.role)
    if row.kind != "resident":  # a driver's tablet session is for the driver API only
        raise NotAuthenticated(
            "このログインでは予約の操作はできません。",
            "This token is not a resident's or staff member's; it cannot be used here.",
        )
    return Actor("resident", row.subject_id, "resident")


def require_staff(actor: Actor, *roles: str) -> None:
    allowed = roles or ("operator", "admin")
    if not actor.is_staff or actor.role not in allowed:
        raise Forbidden(
            "この操作をする権限がありません。",
            f"Not allowed: this needs the role {' or '.join(allowed)}.",
        )


def audit(
    session: Session,
    actor: Actor,
    action: str,
    resident_id: str | None = None,
    booking_id: str | None = None,
    **details: Any,
) -> None:
    session.add(m.AuditEntry(at=now_utc(), actor_kind=actor.kind, actor_id=actor.id, action=action,
                             resident_id=resident_id, booking_id=booking_id, details=details))  # fmt: skip


def actor_names(session: Session, actors: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Display names of audit actors: a staff account's name, a resident's name."""
    staff = {i for k, i in actors if k == "staff"}
    people = {i for k, i in actors if k == "resident"}
    out: dict[tuple[str, str], str] = {}
    if staff:
        for sid, name in session.execute(
            select(m.Staff.id, m.Staff.display_name).where(m.Staff.id.in_(staff))
        ):
            out["staff", sid] = name
    if people:
        for rid, name in session.execute(
            select(m.Resident.id, m.Resident.name).where(m.Resident.id.in_(people))
        ):
            out["resident", rid] = name
    return out


def staff_names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """Staff accounts' display names by id (an id not found is left out)."""
    found = actor_names(session, [("staff", i) for i in ids if i])
    return {i: name for (_, i), name in found.items()}


# -- residents ---------------------------------------------------------------------------


def resident_view(session: Session, r: m.Resident) -> s.Resident:
    kinds = session.scalars(
        select(m.ResidentChannel.kind).where(m.ResidentChannel.resident_id == r.id)
    ).all()
    return s.Resident(
        id=r.id, name=r.name, kana=r.kana, phone=r.phone, address=r.address,
        birth_year=r.birth_year, eligibility=r.eligibility, wheelchair=r.wheelchair,
        needs_help=r.needs_help, suspended=r.suspended, channels=sorted(set(kinds)),
        closed_at=r.closed_at,
    )  # fmt: skip


def register_resident(
    session: Session, actor: Actor, body: s.ResidentCreate
) -> s.ResidentRegistered:
    require_staff(actor, "operator", "admin", "channel")
    if not body.consent:
        raise InvalidInput(
            "個人情報の利用への同意が必要です。",
            "Consent to the use of personal data is required.",
            field="consent",
        )
    if body.line_user_id and session.scalar(
        select(m.ResidentChannel).where(
            m.ResidentChannel.kind == "line", m.ResidentChannel.external_id == body.line_user_id
        )
    ):
        raise InvalidInput(
            "この LINE アカウントは、すでに別の方に登録されています。",
            "This LINE account is already linked to a resident.",
            field="line_user_id",
        )
    if session.scalar(
        select(m.ResidentChannel).where(
            m.ResidentChannel.kind == "phone", m.ResidentChannel.external_id == body.phone
        )
    ):
        raise PhoneAlreadyRegistered(
            "この電話番号の方はすでに登録されています。電話番号で検索してください。",
            "A resident with this phone number is already registered. Search by phone number.",
            field="phone",
        )
    now = now_utc()
    r = m.Resident(
        id=new_id("R"), name=body.name.strip(), kana=body.kana.strip(), phone=body.phone,
        address=body.address.strip(), birth_year=body.birth_year, eligibility=body.eligibility,
        wheelchair=body.wheelchair, needs_help=body.needs_help, consent_at=now,
        suspended=False, created_at=now,
    )  # fmt: skip
    session.add(r)
    session.flush()
    session.add(
        m.ResidentChannel(resident_id=r.id, kind="phone", external_id=body.phone, linked_at=now)
    )
    if body.line_user_id:
        session.add(m.ResidentChannel(resident_id=r.id, kind="line",
                                      external_id=body.line_user_id, linked_at=now))  # fmt: skip
    session.flush()
    audit(session, actor, "resident.register", resident_id=r.id)
    token = None
    if actor.role == "channel":
        token = issue_token(session, "resident", r.id, RESIDENT_TOKEN_TTL).access_token
    return s.ResidentRegistered(resident=resident_view(session, r), token=token)


def remove_sign_ins(session: Session, resident_id: str) -> dict[str, int]:
    """Every way a resident signs in: linked channels (phone, LINE, app), tokens and link
    codes deleted (the phone number and the LINE account free to register again); rows per
    table."""
    removed: dict[str, int] = {}
    for table, statement in (
        ("resident_channels", delete(m.ResidentChannel).where(m.ResidentChannel.resident_id == resident_id)),
        ("tokens", delete(m.Token).where(m.Token.kind == "resident", m.Token.subject_id == resident_id)),
        ("link_codes", delete(m.LinkCode).where(m.LinkCode.resident_id == resident_id)),
    ):  # fmt: skip
        result = session.execute(statement.execution_options(synchronize_session=False))
        removed[table] = int(getattr(result, "rowcount", 0) or 0)
    return removed


def get_resident(session: Session, actor: Actor, resident_id: str) -> m.Resident:
    if not actor.is_staff and actor.id != resident_id:
        raise NotFound("その利用者は見つかりません。", "No such resident.", id=resident_id)
    if actor.is_staff:
        require_staff(actor)
    r = session.get(m.Resident, resident_id)
    if r is None:
        raise NotFound("その利用者は見つかりません。", "No such resident.", id=resident_id)
    return r


def search_residents(session: Session, actor: Actor, q: str) -> list[s.Resident]:
    require_staff(actor)
    q = q.strip()
    if not q:
        raise InvalidInput("検索する言葉を入れてください。", "Enter something to search for.")
    digits = phone_digits(q)
    plain = unicodedata.normalize("NFKC", q)
    if len(digits) >= 3 and all(ch.isdigit() or ch in PHONE_SEPARATORS for ch in plain):
        cond = m.Resident.phone.contains(digits, autoescape=True)  # digits: any part, last four
    else:  # name or reading, spaces ignored; hiragana and half-width kana read as katakana
        cond = or_(_unspaced_sql(m.Resident.name).contains(_unspaced(plain), autoescape=True),
                   _unspaced_sql(m.Resident.kana).contains(_unspaced(normalize_kana(q)),
                                                           autoescape=True))  # fmt: skip
    rows = session.scalars(select(m.Resident).where(cond).order_by(m.Resident.kana).limit(20)).all()
    audit(session, actor, "resident.search", q=q, found=len(rows))
    return [resident_view(session, r) for r in rows]


def _unspaced(text: str) -> str:
    return "".join(text.split())


def _unspaced_sql(column: Any) -> Any:
    """The column without ASCII or ideographic spaces (鞍手 太郎 matches 鞍手太郎)."""
    return func.replace(func.replace(column, " ", ""), "\u3000", "")


def issue_link_code(session: Session, actor: Actor, resident_id: str) -> s.LinkCode:
    """A six-digit one-time code; only a salted scrypt hash of it is stored."""
    require_staff(actor)
    get_resident(session, actor, resident_id)
    code = f"{secrets.randbelow(10**6):06d}"
    expires = now_utc() + LINK_CODE_TTL
    session.add(m.LinkCode(code_hash=hash_password(code), resident_id=resident_id,
                           expires_at=expires))  # fmt: skip
    audit(session, actor, "resident.link_code", resident_id=resident_id)
    return s.LinkCode(code=code, expires_at=expires)


def resident_login(
    session: Session,
    attempts: Attempts,
    phone: str,
    code: str,
    channel: tuple[str, str] | None = None,
) -> s.Token:
    """A resident's token for a phone number and a one-time code; optionally link a channel.

    A handful of wrong codes for one phone number locks it out for a while (the right code
    too, until the wait is over)."""
    digits = phone_digits(phone)
    attempts.check("resident_code", digits)
    now = now_utc()
    rows = session.execute(
        select(m.Resident.id, m.LinkCode)
        .join(m.LinkCode, m.LinkCode.resident_id == m.Resident.id)
        .where(m.Resident.phone == digits, m.LinkCode.used_at.is_(None),
               m.LinkCode.expires_at > now)
        .order_by(m.LinkCode.id)
    ).all()  # fmt: skip
    for resident_id, lc in rows:
        if not verify_password(code.strip(), lc.code_hash):
            continue
        lc.used_at = now
        if channel is not None:
            link_channel(session, resident_id, *channel)
            audit(session, Actor("resident", resident_id, "resident"), "channel.link",
                  resident_id=resident_id, channel=channel[0])  # fmt: skip
        attempts.succeeded("resident_code", digits)
        return issue_token(session, "resident", resident_id, RESIDENT_TOKEN_TTL)
    attempts.failed("resident_code", digits)
    raise NotAuthenticated(
        "電話番号か確認コードが違うか、コードの期限が切れています。",
        "Wrong phone number or code, or the code has expired.",
    )


def phone_digits(phone: str) -> str:
    """The digits of a phone number as typed (full-width digits and hyphens allowed)."""
    return "".join(
        ch for ch in unicodedata.normalize("NFKC", phone) if ch.isascii() and ch.isdigit()
    )


def link_channel(session: Session, resident_id: str, kind: str, external_id: str) -> None:
    existing = session.scalar(
        select(m.ResidentChannel).where(
            m.ResidentChannel.kind == kind, m.ResidentChannel.external_id == external_id
        )
    )
    if existing is None:
        session.add(m.ResidentChannel(resident_id=resident_id, kind=kind,
                                      external_id=external_id, linked_at=now_utc()))  # fmt: skip
    elif existing.resident_id != resident_id:
        existing.resident_id, existing.linked_at = resident_id, now_utc()


# -- staff accounts ----------------------------------------------------------------------

MIN_PASSWORD = {"admin": 12, "operator": 10, "channel": 20}


class WeakSecret(InvalidInput):
    code = "weak_secret"


def check_password(password: str, role: str) -> None:
    """Refuse a password a guesser would try first (length by role, not one repeated sign)."""
    need = MIN_PASSWORD.get(role, 12)
    text = unicodedata.normalize("NFKC", password)
    if len(text) < need or len(set(text)) < 4:
        raise WeakSecret(
            f"パスワードは{need}文字以上で、同じ文字の繰り返しは使えません。",
            f"The password needs at least {need} characters, and not one character repeated.",
            min_length=need,
        )


def create_staff(
    session: Session, username: str, password: str, role: str, display_name: str = ""
) -> m.Staff:
    """An operator, admin or channel account (idempotent on the user name)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    existing = session.scalar(select(m.Staff).where(m.Staff.username == username))
    if existing is not None:
        return existing
    staff = m.Staff(id=new_id("S"), username=username, display_name=display_name or username,
                    password_hash=hash_password(password), role=role, active=True)  # fmt: skip
    session.add(staff)
    session.flush()
    return staff


# -- staff accounts (admins) ---------------------------------------------------------------


class StaffExists(DrtError):
    code = "staff_exists"
    http_status = 409


class OwnAccount(DrtError):
    code = "own_account"
    http_status = 409


def _account(staff: m.Staff) -> s.StaffAccount:
    return s.StaffAccount(id=staff.id, username=staff.username, display_name=staff.display_name,
                          role=staff.role, active=staff.active)  # fmt: skip


def list_staff(session: Session, actor: Actor) -> list[s.StaffAccount]:
    require_staff(actor, "admin")
    return [_account(x) for x in session.scalars(select(m.Staff).order_by(m.Staff.username))]


def add_staff(session: Session, actor: Actor, body: s.StaffCreate) -> s.StaffAccount:
    """An admin opens an account (the user name is unique; the password is only hashed)."""
    require_staff(actor, "admin")
    if session.scalar(select(m.Staff).where(m.Staff.username == body.username)) is not None:
        raise StaffExists(f"ユーザー名「{body.username}」はもう使われています。別の名前にしてください。",
                          f"The user name {body.username!r} is taken; choose another.",
                          field="username")  # fmt: skip
    staff = create_staff(session, body.username, body.password, body.role, body.display_name)
    audit(session, actor, "staff.create", staff=staff.id, username=staff.username, role=staff.role)
    return _account(staff)


def update_staff(
    session: Session, actor: Actor, staff_id: str, body: s.StaffUpdate
) -> s.StaffAccount:
    """An admin renames an account, changes its role, sets a new password or turns it off
    (its sessions end at once). Not one's own role or account: another admin does that."""
    require_staff(actor, "admin")
    staff = session.get(m.Staff, staff_id)
    if staff is None:
        raise NotFound("その職員のアカウントは見つかりません。", "No such staff account.",
                       staff_id=staff_id)  # fmt: skip
    if staff.id == actor.id and (body.active is False or body.role not in (None, staff.role)):
        raise OwnAccount("自分のアカウントを止めたり、権限を変えたりはできません。ほかの管理者に頼んでください。",
                         "You cannot turn off or change the role of your own account; ask another admin.")  # fmt: skip
    changed = {k: v for k, v in body.model_dump(exclude_none=True).items() if k != "password"}
    if body.display_name is not None:
        staff.display_name = body.display_name
    if body.role is not None:
        staff.role = body.role
    if body.active is not None:
        staff.active = body.active
    if body.password is not None:
        staff.password_hash = hash_password(body.password)
        changed["password"] = "changed"
    if body.active is False or body.password is not None or body.role is not None:
        session.execute(
            delete(m.Token).where(m.Token.kind == "staff", m.Token.subject_id == staff.id)
        )
    audit(session, actor, "staff.update", staff=staff.id, username=staff.username, **changed)
    return _account(staff)
