"""What each user may read, update and review: reserves for editors, areas for reviewers.

A lead belongs to every reserve it lies in (``lead_reserves``): the one that won its
classification (``lead_class.reserve_code``) and each other reserve holding part of it, so
the editor of any of them reads it and may update it. A lead row carries its winner as
``reserve_code`` and all its reserves as ``reserve_codes``; leads outside every reserve,
or not classified yet, belong to none and only viewers and admins see them. Reviewers read
the leads whose county adcode starts with their area.
The checks are library functions that the web app, the command line and tests call alike.

Examples
--------
>>> from pipelines.users import ROLE_LABELS, Role, User
>>> user = User("林业站", Role.EDITOR, frozenset({"R01"}))
>>> can_read(user, {"reserve_code": "R01"}), can_read(user, {"reserve_code": "R02"})
(True, False)
>>> can_edit(user, {"reserve_code": "R02", "reserve_codes": ["R02", "R01"]})
True
>>> sorted(editable_reserves(user))
['R01']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pipelines.errors import NotFoundError, PermissionDeniedError
from pipelines.store.base import Workspace
from pipelines.users import ROLE_LABELS, Role, User

__all__ = [
    "can_edit",
    "can_edit_reserve",
    "can_read",
    "can_read_reserve",
    "editable_reserves",
    "in_area",
    "lead_reserve",
    "lead_reserves",
    "lead_row_reserves",
    "readable_areas",
    "readable_reserves",
    "require_admin",
    "require_edit",
    "require_read",
    "require_read_reserve",
    "require_review",
]


# -- rights -----------------------------------------------------------------------------
def readable_reserves(user: User) -> frozenset[str] | None:
    """Return the reserve codes whose leads ``user`` may read, or None for all of them.

    Reviewers read by county, not by reserve: they get an empty set here (whole-reserve
    listings show them nothing) and read the leads of their area through
    :func:`can_read` and :func:`in_area`.
    """
    if user.role is Role.REVIEWER:
        return frozenset()
    return user.reserves if user.role is Role.EDITOR else None


def editable_reserves(user: User) -> frozenset[str] | None:
    """Return the reserve codes whose leads ``user`` may update; None means all of them.

    Viewers get an empty set: they update nothing.
    """
    if user.role is Role.ADMIN:
        return None
    return user.reserves if user.role is Role.EDITOR else frozenset()


def _reserve_of(lead: Mapping[str, Any]) -> str | None:
    code = lead.get("reserve_code")
    if code is None or (isinstance(code, float) and code != code):  # NaN
        return None
    return str(code)


def lead_reserves(lead: Mapping[str, Any]) -> frozenset[str]:
    """Return every reserve a lead row lies in: ``reserve_codes`` and its winner.

    Examples
    --------
    >>> sorted(lead_reserves({"reserve_code": "R02", "reserve_codes": ("R02", "R01")}))
    ['R01', 'R02']
    >>> lead_reserves({"reserve_code": None})
    frozenset()
    """
    codes = lead.get("reserve_codes")
    members = ({str(c) for c in codes if isinstance(c, str)}
               if isinstance(codes, list | tuple | set | frozenset | np.ndarray) else set())
    winner = _reserve_of(lead)
    return frozenset(members | ({winner} if winner is not None else set()))


def _any_allowed(allowed: frozenset[str] | None, codes: frozenset[str]) -> bool:
    if allowed is None:
        return True
    if not codes:
        return False
    return bool(codes & allowed)


def can_read_reserve(user: User, reserve_code: str | None) -> bool:
    """Return True when ``user`` may read the leads of ``reserve_code`` (None: no reserve)."""
    allowed = readable_reserves(user)
    return allowed is None or (reserve_code is not None and reserve_code in allowed)


def can_edit_reserve(user: User, reserve_code: str | None) -> bool:
    """Return True when ``user`` may update the leads of ``reserve_code``."""
    allowed = editable_reserves(user)
    return allowed is None or (reserve_code is not None and reserve_code in allowed)


def readable_areas(user: User) -> frozenset[str] | None:
    """Return the adcode prefixes a reviewer reads the leads of; None for other users
    (whose reading goes by :func:`readable_reserves`)."""
    return user.areas if user.role is Role.REVIEWER else None


def in_area(user: User, county_adcode: object) -> bool:
    """Return True when ``county_adcode`` lies in a reviewer's area (starts with one of
    its prefixes); False for every other user and for leads without a county.

    Examples
    --------
    >>> from pipelines.levels import Level
    >>> city = User("某市局", Role.REVIEWER, level=Level.CITY, areas=frozenset({"2224"}))
    >>> in_area(city, "222426"), in_area(city, "220104"), in_area(city, None)
    (True, False, False)
    """
    if user.role is not Role.REVIEWER or not isinstance(county_adcode, str):
        return False
    return any(county_adcode.startswith(prefix) for prefix in user.areas)


def can_read(user: User, lead: Mapping[str, Any]) -> bool:
    """Return True when ``user`` may read ``lead`` (a row with ``reserve_code``, and
    ``county_adcode`` for reviewers)."""
    if user.role is Role.REVIEWER:
        return in_area(user, lead.get("county_adcode"))
    return _any_allowed(readable_reserves(user), lead_reserves(lead))


def can_edit(user: User, lead: Mapping[str, Any]) -> bool:
    """Return True when ``user`` may change the status of ``lead``: an admin, or an editor
    of any reserve the lead lies in (:func:`lead_reserves`)."""
    return _any_allowed(editable_reserves(user), lead_reserves(lead))


def require_read_reserve(user: User, reserve_code: str | None) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` may read that reserve's leads."""
    if not can_read_reserve(user, reserve_code):
        raise PermissionDeniedError(
            f"{user.name} may only read the leads of reserve(s) {_codes(user)}, "
            f"not of {reserve_code or 'leads outside every reserve'}"
        )


def require_read(user: User, lead: Mapping[str, Any]) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` may read ``lead``."""
    if not can_read(user, lead):
        raise PermissionDeniedError(
            f"{user.name} may only read the leads of reserve(s) {_codes(user)}; "
            f"lead {lead.get('lead_id', '?')} is not one of them"
        )


def require_edit(user: User, lead: Mapping[str, Any]) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` may update ``lead``."""
    if can_edit(user, lead):
        return
    if user.role is Role.VIEWER:
        raise PermissionDeniedError(f"{user.name} is a viewer and cannot change leads")
    if user.role is Role.REVIEWER:
        raise PermissionDeniedError(
            f"{user.name} 是审核用户，不直接修改线索状态：用 `lvdun review approve|return` 审核")
    raise PermissionDeniedError(
        f"{user.name} may only change the leads of reserve(s) {_codes(user)}; "
        f"lead {lead.get('lead_id', '?')} is not one of them"
    )


def require_review(user: User, lead: Mapping[str, Any]) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` reviews ``lead`` (a row with
    ``lead_id`` and ``county_adcode``): a reviewer whose area holds its county."""
    lead_id = lead.get("lead_id", "?")
    if user.role is not Role.REVIEWER or user.level is None:
        raise PermissionDeniedError(
            f"{user.name} 不是审核用户（{ROLE_LABELS[user.role]}），不能审核线索 {lead_id}")
    if not in_area(user, lead.get("county_adcode")):
        county = lead.get("county_adcode")
        raise PermissionDeniedError(
            f"线索 {lead_id} 不在 {user.name} 的辖区（{', '.join(sorted(user.areas))}）内："
            f"它的县级行政区划代码为 {county if isinstance(county, str) else '（无）'}")


def require_admin(user: User) -> None:
    """Raise :class:`PermissionDeniedError` unless ``user`` is an admin."""
    if user.role is not Role.ADMIN:
        raise PermissionDeniedError(f"{user.name} is not an admin")


def _codes(user: User) -> str:
    return ", ".join(sorted(user.reserves)) or "none"


def lead_reserve(ws: Workspace, lead_id: str) -> str | None:
    """Return the reserve a lead belongs to (its classification), None outside reserves.

    Raises
    ------
    NotFoundError
        When the workspace has no such lead.
    """
    if not ws.count_equal("leads", "lead_id", lead_id):
        raise NotFoundError(f"no lead {lead_id!r} in the workspace {ws.location}")
    rows = ws.read_table_equal("lead_class", "lead_id", lead_id)
    if rows.empty:
        return None
    return _reserve_of(rows.iloc[0].to_dict())


def lead_row_reserves(ws: Workspace, lead: dict[str, Any]) -> dict[str, Any]:
    """Return ``lead`` (a row with ``lead_id``) with ``reserve_codes``, every reserve it lies
    in, read from the workspace (for rights checks of rows read without them)."""
    return {**lead, "reserve_codes": tuple(ws.lead_reserve_codes(str(lead.get("lead_id"))))}
