"""Administrative levels of users and review (保护区, 县级, 市级, 省级) and reviewers' areas.

Reserve offices (level ``reserve``) fill in verdicts; county, city and province bureaus
review the leads of their area, given as adcode prefixes: 6 digits for a county, 4 for a
city, 2 for a province (``222426``, ``2224``, ``22``).

Examples
--------
>>> parse_level("City"), LEVEL_LABELS[Level.PROVINCE]
(<Level.CITY: 'city'>, '省级')
>>> check_areas(["2224"], Level.CITY, "某市局")
frozenset({'2224'})
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pipelines.errors import UserError

__all__ = ["AREA_DIGITS", "LEVEL_LABELS", "REVIEW_LEVELS", "Level", "check_areas",
           "level_for_role", "parse_level"]


class Level(StrEnum):
    """The administrative level of a user: reserve offices fill in, the others review."""

    RESERVE = "reserve"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"


LEVEL_LABELS: dict[Level, str] = {
    Level.RESERVE: "保护区",
    Level.COUNTY: "县级",
    Level.CITY: "市级",
    Level.PROVINCE: "省级",
}
#: The levels that review, lowest first.
REVIEW_LEVELS: tuple[Level, ...] = (Level.COUNTY, Level.CITY, Level.PROVINCE)
#: The length of an area's adcode prefix at each reviewing level.
AREA_DIGITS: dict[Level, int] = {Level.COUNTY: 6, Level.CITY: 4, Level.PROVINCE: 2}


def parse_level(value: str | Level, *, reviewing: bool = True) -> Level:
    """Return the level of a code (``city``) or label (``市级``).

    Raises
    ------
    UserError
        For an unknown level, or ``reserve`` when ``reviewing``.
    """
    text = str(value).strip()
    by_label = {label: level for level, label in LEVEL_LABELS.items()}
    try:
        level = by_label.get(text) or Level(text.lower())
    except ValueError:
        level = None
    allowed = REVIEW_LEVELS if reviewing else tuple(Level)
    if level not in allowed:
        names = "、".join(f"{lv.value}（{LEVEL_LABELS[lv]}）" for lv in allowed)
        raise UserError(f"未知的审核层级 {value!r}：可用 {names}")
    return level


def check_areas(areas: Iterable[str], level: Level, name: str) -> frozenset[str]:
    """Return a reviewer's area prefixes, checked against ``level``.

    Parameters
    ----------
    areas : iterable of str
        Adcode prefixes, as given (blanks dropped).
    level : Level
        The reviewer's level, which fixes the number of digits.
    name : str
        The reviewer, for the message.

    Raises
    ------
    UserError
        When no prefix is given or one is not the level's number of digits.
    """
    prefixes = frozenset(str(a).strip() for a in areas if str(a).strip())
    digits = AREA_DIGITS[level]
    example = "222426"[:digits]
    if not prefixes:
        raise UserError(f"审核用户 {name}：用 --area 给出辖区的行政区划代码前缀，"
                        f"{LEVEL_LABELS[level]}为 {digits} 位，例如 --area {example}")
    bad = sorted(a for a in prefixes if not (a.isdigit() and len(a) == digits))
    if bad:
        raise UserError(f"审核用户 {name}：辖区 {', '.join(bad)} 不是 {digits} 位的"
                        f"{LEVEL_LABELS[level]}行政区划代码前缀（例如 {example}）")
    return prefixes


def level_for_role(level: str | Level | None, role: str, name: str) -> Level | None:
    """Return the level of a new user of ``role``: editors are ``reserve``, reviewers must
    name theirs, viewers and admins have none.

    Parameters
    ----------
    level : str or Level, optional
        The level asked for.
    role : str
        ``viewer``, ``editor``, ``reviewer`` or ``admin``.
    name : str
        The user, for the message.

    Raises
    ------
    UserError
        When a reviewer names no reviewing level, or another role names one.
    """
    if role == "reviewer":
        if level in (None, ""):
            raise UserError(f"审核用户 {name} 需要 --level county、city 或 province")
        return parse_level(level)
    if level not in (None, "") and not (role == "editor" and level == Level.RESERVE.value):
        raise UserError(f"{role} {name}: only reviewers choose a level "
                        "(editors are of level reserve)")
    return Level.RESERVE if role == "editor" else None
