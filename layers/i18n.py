"""What a person reads, in Chinese by default or English: gettext with Chinese msgids.

The msgids are the Chinese texts themselves, so a missing English entry still shows the
right Chinese words. The English catalog lives in ``layers/locale/en/LC_MESSAGES/lvdun.po``
(compiled beside it to ``lvdun.mo``, shipped as package data). Library code never reads the
environment: an entry point (the CLI, the web app) reads ``LVDUN_LANG`` through its settings
and calls :func:`set_language` once.

Use :func:`_` for a text, :func:`label` for a stored code (zone, status, level, activity):
codes stay in the database, labels go to people.

Examples
--------
>>> set_language("zh"); _("分区"), label("core_protection")
('分区', '核心保护区')
>>> set_language("en"); _("分区"), label("core_protection")
('zone', 'core protection zone')
>>> set_language("zh")
"""

from __future__ import annotations

import functools
import gettext
import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from layers.schema import LEVEL_LABELS, STATUS_LABELS, ZONE_LABELS

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "LOCAL_TZ",
    "_",
    "label",
    "language",
    "local_time",
    "ngettext",
    "set_language",
    "translations",
]

log = logging.getLogger(__name__)

#: The gettext domain of every lvdun catalog.
DOMAIN = "lvdun"
#: Where the catalogs are: ``<lang>/LC_MESSAGES/lvdun.mo``.
LOCALE_DIR = Path(__file__).with_name("locale")
#: Languages lvdun speaks; ``zh`` is the msgids themselves.
LANGUAGES = ("zh", "en")
#: China Standard Time, the time people read and the store writes (UTC+08:00, no DST).
LOCAL_TZ = timezone(timedelta(hours=8), "CST")

_CODE_LABELS: dict[str, str] = {
    **{z.value: t for z, t in ZONE_LABELS.items()},
    **{s.value: t for s, t in STATUS_LABELS.items()},
    **{lv.value: t for lv, t in LEVEL_LABELS.items()},
}

_current: gettext.NullTranslations = gettext.NullTranslations()
_language = "zh"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """Return the catalog of ``lang``; ``zh`` (the msgids) is the null catalog.

    Raises
    ------
    ValueError
        For a language lvdun does not speak.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    if lang == "zh":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def set_language(lang: str) -> None:
    """Make ``lang`` (``zh`` or ``en``) the language of every later :func:`_` and :func:`label`."""
    global _current, _language
    _current = translations(lang)
    _language = lang


def language() -> str:
    """Return the current language code."""
    return _language


def _(message: str) -> str:
    """Return ``message`` (a Chinese msgid) in the current language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Return the singular or plural of a message for ``n``, in the current language.

    Parameters
    ----------
    singular : str
        The msgid (Chinese has one form: the same text as ``plural``).
    plural : str
        The plural msgid.
    n : int
        The count that chooses the form.
    """
    return _current.ngettext(singular, plural, n)


def label(code: object) -> str:
    """Return what a person reads for a stored code: ``core`` -> 核心区 (or ``core zone``).

    Codes without a label (a reserve's name, a free text) come back as their text, translated
    when the catalog knows them (activity types, 保护区外).

    Examples
    --------
    >>> label("rectifying"), label("长白山"), label(None)
    ('整改中', '长白山', '')
    """
    if code is None:
        return ""
    text = str(code)
    return _(_CODE_LABELS.get(text, text))


def local_time(stamp: str | datetime | None) -> str:
    """Return a stored time as China Standard Time with its offset, to the second.

    Stamps written before times were local are UTC (with ``+00:00``, or naive): both read.

    Examples
    --------
    >>> local_time("2026-12-03T12:15:00+00:00"), local_time("2026-12-03T20:15:00+08:00")
    ('2026-12-03T20:15:00+08:00', '2026-12-03T20:15:00+08:00')
    >>> local_time("2026-12-03T12:15:00"), local_time(""), local_time("2026-12-03")
    ('2026-12-03T20:15:00+08:00', '', '2026-12-03')
    """
    if stamp is None or stamp == "":
        return ""
    if isinstance(stamp, datetime):
        at = stamp
    else:
        text = str(stamp).strip()
        if len(text) <= 10:  # a date has no time zone
            return text
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            return text
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()
