"""Users of the web app and what each may do: roles, reserves, tokens stored hashed.

Four roles:

- **viewer** reads every lead and layer, changes nothing;
- **editor** (a reserve office, level ``reserve``) reads and updates the leads of *its*
  reserves only, and nothing of the others: not their leads, not their history, not their
  exports;
- **reviewer** (a county, city or province bureau, :class:`Level`) reviews the leads whose
  county adcode (``lead_class.county_adcode``) starts with one of the adcode prefixes of
  its area (``2224``), and reads those alone; it changes no status itself
  (:mod:`pipelines.verify.review`);
- **admin** reads and updates everything and may list users.

A lead belongs to the reserve that won its classification (``lead_class.reserve_code``,
the strictest zone, then the higher level); leads outside every reserve, or not classified
yet, belong to none and only viewers and admins see them.

A token is 32 random bytes (``lvd_`` + URL-safe base64) shown once when the user is added;
the workspace keeps only its SHA-256. A salt or a slow hash (scrypt, PBKDF2) protects
*guessable* secrets such as passwords; a 256-bit random token cannot be guessed, and a plain
digest lets each request find its user with one indexed lookup.

A token expires (:data:`DEFAULT_EXPIRES_DAYS` days after it was issued unless told
otherwise); an expired token is refused with a message saying to ask an admin for
``lvdun users rotate NAME``, which issues a new token (shown once, stored hashed) and
invalidates the old one at once. Users of a workspace made before tokens expired (schema
version 1 and older) have no recorded expiry: they are taken as issued when the workspace
was upgraded (the time its schema table records for version :data:`EXPIRY_SCHEMA`), so
they expire :data:`DEFAULT_EXPIRES_DAYS` days after the upgrade.

What each user may read and change is :mod:`pipelines.rights`.

Examples
--------
>>> user = User("林业站", Role.EDITOR, frozenset({"R01"}))
>>> user.role.value, sorted(user.reserves)
('editor', ['R01'])
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pandas as pd

from pipelines.errors import AuthError, NotFoundError, UserError
from pipelines.levels import LEVEL_LABELS, Level, check_areas, level_for_role
from pipelines.store.base import Workspace, now_iso

__all__ = [
    "DEFAULT_EXPIRES_DAYS",
    "EXPIRY_SCHEMA",
    "LEVEL_LABELS",
    "MAX_EXPIRES_DAYS",
    "ROLE_LABELS",
    "TOKEN_PREFIX",
    "Level",
    "Role",
    "User",
    "add_user",
    "authenticate",
    "get_user",
    "hash_token",
    "list_users",
    "revoke_user",
    "rotate_user",
]

log = logging.getLogger(__name__)

#: Tokens start with this, so that secret scanners and people recognise them.
TOKEN_PREFIX = "lvd_"
_TOKEN_BYTES = 32
_HASH_PREFIX = "sha256:"
_MAX_NAME = 64
#: Days a token is valid when nothing else is said.
DEFAULT_EXPIRES_DAYS = 180
#: The longest validity one may ask for (ten years).
MAX_EXPIRES_DAYS = 3650
#: The schema version that brought token expiry (``users.expires_at``).
EXPIRY_SCHEMA = 2


class Role(StrEnum):
    """What a user may do: read everything, edit their reserves, review an area, or all."""

    VIEWER = "viewer"
    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.VIEWER: "查看",
    Role.EDITOR: "保护区编辑",
    Role.REVIEWER: "审核",
    Role.ADMIN: "管理员",
}


@dataclass(frozen=True)
class User:
    """A user of the web app (never holds the token itself).

    Parameters
    ----------
    name
        Unique name, shown in the history as who made a change.
    role
        :class:`Role`.
    reserves
        Reserve codes an editor may read and update; empty for viewers and admins.
    created_at, revoked_at
        ISO 8601 times; a revoked user cannot log in.
    expires_at
        ISO 8601 time after which the user's token is refused (None: never, for users
        made in code only; the workspace gives every user one).
    level
        :class:`Level`: ``reserve`` for editors, the reviewing level of reviewers, None
        for viewers and admins.
    areas
        Adcode prefixes of a reviewer's area (``2224``); empty for the other roles.
    """

    name: str
    role: Role
    reserves: frozenset[str] = field(default_factory=frozenset)
    created_at: str | None = None
    revoked_at: str | None = None
    expires_at: str | None = None
    level: Level | None = None
    areas: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        """True until the user is revoked."""
        return self.revoked_at is None

    def expired(self, now: datetime | None = None) -> bool:
        """Return True when the token is past its expiry at ``now`` (default: now).

        Examples
        --------
        >>> user = User("a", Role.VIEWER, expires_at="2024-01-01T00:00:00+00:00")
        >>> user.expired(datetime(2023, 12, 31, tzinfo=UTC)), user.expired()
        (False, True)
        """
        if self.expires_at is None:
            return False
        return _parse_time(self.expires_at) <= (now or datetime.now(UTC))

    def as_dict(self) -> dict[str, Any]:
        """Return the user as plain JSON-ready values (reserves sorted)."""
        return {
            "name": self.name,
            "role": self.role.value,
            "reserves": sorted(self.reserves),
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
            "expires_at": self.expires_at,
            "level": self.level.value if self.level else None,
            "areas": sorted(self.areas),
        }


# -- tokens ---------------------------------------------------------------------------
def hash_token(token: str) -> str:
    """Return the stored form of a token: ``sha256:`` and the hex digest.

    Examples
    --------
    >>> hash_token("lvd_x")[:15]
    'sha256:03c539e2'
    """
    return _HASH_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def _parse_time(text: str) -> datetime:
    """An ISO 8601 time as an aware datetime (naive times are UTC)."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _expiry(start: str, days: int) -> str:
    """ISO 8601 time ``days`` after ``start``."""
    return (_parse_time(start) + timedelta(days=days)).isoformat()


def _check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not (
            1 <= days <= MAX_EXPIRES_DAYS):
        raise UserError(f"--expires-days {days!r}: give a whole number of days from 1 to "
                        f"{MAX_EXPIRES_DAYS}, e.g. --expires-days {DEFAULT_EXPIRES_DAYS}")
    return days


def _upgrade_time(ws: Workspace) -> str | None:
    """When the workspace was upgraded to token expiry (or made with it), if recorded.

    An open workspace always has its schema table (opening records the version).
    """
    return ws.schema_upgrade_time(EXPIRY_SCHEMA)


# -- the users table --------------------------------------------------------------------
def _clean_name(name: str) -> str:
    text = unicodedata.normalize("NFC", str(name)).strip()
    if not text:
        raise UserError("a user needs a name, e.g. `lvdun users add 张三 --role viewer`")
    if len(text) > _MAX_NAME:
        raise UserError(f"user name {text[:20]!r}... is longer than {_MAX_NAME} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise UserError(f"user name {text!r} holds control characters")
    return text


def _parse_role(role: str | Role) -> Role:
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        raise UserError(
            f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}"
        ) from None


def _row_user(ws: Workspace, row: Mapping[str, Any]) -> User:
    reserves = json.loads(row["reserves"]) if isinstance(row["reserves"], str) else []
    revoked = row["revoked_at"]
    expires = row.get("expires_at")
    if not (isinstance(expires, str) and expires):  # a user from before tokens expired
        start = _upgrade_time(ws) or row["created_at"] or now_iso()
        expires = _expiry(start, DEFAULT_EXPIRES_DAYS)
    role = Role(row["role"])
    level = row.get("level")
    areas = row.get("areas")
    return User(
        name=str(row["name"]),
        role=role,
        reserves=frozenset(str(code) for code in reserves),
        created_at=row["created_at"],
        revoked_at=revoked if isinstance(revoked, str) and revoked else None,
        expires_at=expires,
        level=(Level(level) if isinstance(level, str) and level else
               Level.RESERVE if role is Role.EDITOR else None),
        areas=frozenset(json.loads(areas)) if isinstance(areas, str) and areas else frozenset(),
    )


def _read_users(ws: Workspace, name: str | None = None) -> list[User]:
    return [_row_user(ws, row) for row in ws.read_users(name).to_dict("records")]


def add_user(
    ws: Workspace,
    name: str,
    role: str | Role,
    *,
    reserves: Iterable[str] = (),
    expires_days: int = DEFAULT_EXPIRES_DAYS,
    level: str | Level | None = None,
    areas: Iterable[str] = (),
) -> tuple[User, str]:
    """Add a user and return it with its token, which is shown only this once.

    Parameters
    ----------
    ws : Workspace
        The workspace.
    name : str
        A unique name (a revoked user's name may be given again: it gets a new token).
    role : str or Role
        ``viewer``, ``editor``, ``reviewer`` or ``admin``.
    reserves : iterable of str
        For editors, the reserve codes they look after (at least one, each known to the
        workspace when it has reserves); must be empty for the other roles.
    expires_days : int
        Days the token is valid from now (1 to :data:`MAX_EXPIRES_DAYS`); afterwards
        :func:`rotate_user` gives a new one.
    level : str or Level, optional
        For reviewers ``county``, ``city`` or ``province``; editors are ``reserve``.
    areas : iterable of str
        For reviewers, the adcode prefixes of their area (6, 4 or 2 digits by level).

    Returns
    -------
    tuple of (User, str)
        The user and the plain token (``lvd_...``); the workspace keeps only its hash.

    Raises
    ------
    UserError
        For an empty or taken name, an unknown role, reserves that do not fit the role,
        or a validity outside 1 to :data:`MAX_EXPIRES_DAYS` days.
    """
    clean = _clean_name(name)
    kind = _parse_role(role)
    days = _check_days(expires_days)
    codes = frozenset(str(code).strip() for code in reserves if str(code).strip())
    rank = level_for_role(level, kind.value, clean)
    prefixes = frozenset(str(a).strip() for a in areas if str(a).strip())
    if kind is Role.REVIEWER and rank is not None:
        prefixes = check_areas(prefixes, rank, clean)
    elif prefixes:
        raise UserError(f"{kind.value} {clean}: only reviewers have an area (--area)")
    if kind is Role.EDITOR and not codes:
        raise UserError(f"editor {clean}: name the reserves they edit with --reserve CODE")
    if kind is not Role.EDITOR and codes:
        raise UserError(
            f"{kind.value} {clean}: only editors have reserves ({kind.value}s "
            f"{'read' if kind is Role.VIEWER else 'read and edit'} every reserve)"
        )
    token = _new_token()
    with ws.transaction():
        existing = _read_users(ws, clean)
        if existing and existing[0].active:
            raise UserError(
                f"user {clean} exists ({existing[0].role.value}); "
                f"`lvdun users revoke {clean}` first to give them a new token"
            )
        if codes:
            known = ws.reserve_codes()
            unknown = sorted(codes - known)
            if known and unknown:
                raise UserError(
                    f"editor {clean}: unknown reserve code(s) {', '.join(unknown)}; "
                    f"the workspace has {', '.join(sorted(known))}"
                )
        created = now_iso()
        user = User(clean, kind, codes, created_at=created, expires_at=_expiry(created, days),
                    level=rank, areas=prefixes)
        ws.upsert_rows("users", pd.DataFrame([{
            "name": user.name,
            "role": user.role.value,
            "reserves": json.dumps(sorted(codes), ensure_ascii=False),
            "token_hash": hash_token(token),
            "created_at": user.created_at,
            "revoked_at": None,
            "expires_at": user.expires_at,
            "level": rank.value if rank else None,
            "areas": json.dumps(sorted(prefixes)) if prefixes else None,
        }]))
    log.info("added %s %s%s", kind.value, clean,
             f" for {sorted(codes or prefixes)}" if codes or prefixes else "")
    return user, token


def list_users(ws: Workspace, *, include_revoked: bool = True) -> list[User]:
    """Return the users sorted by name, revoked ones included unless told otherwise."""
    users = _read_users(ws)
    return users if include_revoked else [u for u in users if u.active]


def get_user(ws: Workspace, name: str) -> User:
    """Return the user called ``name``.

    Raises
    ------
    NotFoundError
        When there is no such user.
    """
    users = _read_users(ws, _clean_name(name))
    if not users:
        raise NotFoundError(f"no user {name!r}; `lvdun users list` shows them")
    return users[0]


def revoke_user(ws: Workspace, name: str) -> User:
    """Revoke a user's token at once; the row stays, so history keeps its meaning.

    Raises
    ------
    NotFoundError
        When there is no such user.
    UserError
        When the user is already revoked.
    """
    clean = _clean_name(name)
    with ws.transaction():
        user = get_user(ws, clean)
        if not user.active:
            raise UserError(f"user {clean} was already revoked at {user.revoked_at}")
        at = now_iso()
        ws.set_user_revoked(clean, at)
    log.info("revoked user %s", clean)
    return replace(user, revoked_at=at)


def rotate_user(
    ws: Workspace, name: str, *, expires_days: int = DEFAULT_EXPIRES_DAYS
) -> tuple[User, str]:
    """Give a user a new token, valid ``expires_days`` days from now; the old one stops
    working at once (expired or not).

    Parameters
    ----------
    ws : Workspace
        The workspace.
    name : str
        The user.
    expires_days : int
        Days the new token is valid (1 to :data:`MAX_EXPIRES_DAYS`).

    Returns
    -------
    tuple of (User, str)
        The user with its new expiry, and the new plain token, shown only this once.

    Raises
    ------
    NotFoundError
        When there is no such user.
    UserError
        When the user is revoked (``lvdun users add NAME`` gives them a token again), or
        for a validity outside 1 to :data:`MAX_EXPIRES_DAYS` days.
    """
    clean = _clean_name(name)
    days = _check_days(expires_days)
    token = _new_token()
    with ws.transaction():
        user = get_user(ws, clean)
        if not user.active:
            raise UserError(f"user {clean} was revoked at {user.revoked_at}; "
                            f"`lvdun users add {clean} --role {user.role.value}` gives them "
                            "a token again")
        expires = _expiry(now_iso(), days)
        ws.set_user_token(clean, hash_token(token), expires)
    log.info("rotated the token of %s (valid until %s)", clean, expires)
    return replace(user, expires_at=expires), token


_AUTH_COLUMNS = ("name", "role", "reserves", "created_at", "revoked_at", "expires_at",
                 "level", "areas")


def authenticate(ws: Workspace, token: str | None) -> User:
    """Return the active user holding ``token``, if it has not expired.

    Raises
    ------
    AuthError
        When the token is missing, unknown or revoked (the message never says which
        user a token belonged to), or expired: then the message names the user, so
        that its holder can ask an admin for ``lvdun users rotate NAME``.
    """
    if not token or not token.strip():
        raise AuthError("log in: send the token as `Authorization: Bearer <token>`")
    # runs on every request of the web app: one row, no DataFrame
    row = ws.user_by_token(hash_token(token.strip()), _AUTH_COLUMNS)
    user = _row_user(ws, row) if row else None
    if user is None or not user.active:
        raise AuthError("the token is unknown or was revoked; ask an admin for a new one")
    if user.expired():
        raise AuthError(f"the token of {user.name} expired at {user.expires_at}; ask an "
                        f"admin for a new one: `lvdun users rotate {user.name}`")
    return user
