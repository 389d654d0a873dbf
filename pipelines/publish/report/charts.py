"""Bar charts as PNG bytes (matplotlib, Agg canvas, no pyplot state).

Chinese labels need a CJK font. The first installed one of :data:`CJK_FAMILIES` is used;
when none is installed, bars are labelled 1, 2, 3 ... and the chart's legend text (shown
under it in the report) maps the numbers to the names, so nothing renders as boxes and
matplotlib has no reason to warn about missing glyphs.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Sequence

from pipelines.publish.report.model import Chart

__all__ = ["CJK_FAMILIES", "bar_chart", "cjk_font"]

log = logging.getLogger(__name__)

#: CJK font families tried in order (Debian: fonts-noto-cjk, fonts-wqy-zenhei).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
    "Heiti SC", "Droid Sans Fallback", "AR PL UMing CN",
)
_COLOR = "#2f7d5b"


@functools.cache
def cjk_font() -> str | None:
    """Return the family name of an installed CJK font, or None."""
    return _cjk_entry()[0]


@functools.cache
def _cjk_entry() -> tuple[str | None, object]:
    """The CJK family and the weight its regular face declares (to ask for exactly it)."""
    from matplotlib import font_manager

    faces: dict[str, list[object]] = {}
    for entry in font_manager.fontManager.ttflist:
        faces.setdefault(entry.name, []).append(entry.weight)
    for family in CJK_FAMILIES:
        if family in faces:
            weights = faces[family]
            weight = "normal" if any(w in ("normal", "regular", 400) for w in weights) \
                else weights[0]
            log.debug("charts use the CJK font %s (weight %s)", family, weight)
            return family, weight
    log.info("no CJK font found (install fonts-noto-cjk): chart labels are numbered")
    return None, "normal"


def bar_chart(
    key: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    unit: str = "",
    font: str | None = None,
    use_font: bool = True,
) -> Chart:
    """Return a horizontal bar chart, largest bar on top, as a :class:`Chart`.

    Parameters
    ----------
    key, title : str
        The chart's name and its title (shown by the report next to the image).
    labels : sequence of str
        One bar each: its label.
    values : sequence of float
        One bar each: its length.
    unit : str
        Axis label, e.g. ``线索数`` (ASCII-only when no CJK font is available).
    font : str or None
        A font family to use instead of :func:`cjk_font`.
    use_font : bool
        False forces the numbered-label fallback (as on a machine without CJK fonts).
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = (font or cjk_font()) if use_font else None
    shown = list(labels) if family else [str(i + 1) for i in range(len(labels))]
    legend = "" if family else "; ".join(f"{i + 1} = {name}" for i, name in enumerate(labels))
    axis = unit if family or unit.isascii() else ""
    params: dict[str, object] = {"font.family": "sans-serif", "axes.unicode_minus": False}
    if family:
        params["font.sans-serif"] = [family, "DejaVu Sans"]
        weight = _cjk_entry()[1] if family == cjk_font() else "normal"
        params.update({"font.weight": weight, "axes.labelweight": weight,
                       "axes.titleweight": weight, "figure.titleweight": weight})
    with rc_context(params):
        height = max(2.0, 0.32 * len(shown) + 1.0)
        fig = Figure(figsize=(7.5, height), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        positions = list(range(len(shown)))[::-1]
        ax.barh(positions, list(values), color=_COLOR)
        ax.set_yticks(positions, shown)
        for y, v in zip(positions, values, strict=True):
            ax.text(v, y, f" {v:g}", va="center", fontsize=8)
        ax.set_xlabel(axis)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.12)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    return Chart(key=key, title=title, png=buf.getvalue(), legend=legend)
