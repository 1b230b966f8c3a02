"""A self-contained HTML page of users' recommendations: scores, their parts, and the graph
paths that explain each item, as sentences and as a picture.

Use: ``write_report(rec, {"user:u0042": rec.recommend("user:u0042", k=5)}, "why.html")``, or
``shopgraph recommend ARTIFACT --user u0042 --html why.html``; ``make demo`` writes one. The
page shows the recommendations it is given (filters, ``k`` and all), computing none itself.

One section per user, one card per recommended item: its title, score, each blend
component's part as a bar (negative parts, which a learned ranker's TreeSHAP parts can be,
in another colour), the fallback reason if any (cold start), the path sentences, and the
paths drawn by :func:`recommend.paths.drawing.paths_figure` (inlined as SVG data URIs, so the
page is one file and the pictures' ids never clash). Every text from the graph is escaped.
Written atomically.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kg.atomic import atomic_write_text
from recommend.shown import shown_name, shown_number

if TYPE_CHECKING:
    from recommend.recommender import Recommender
    from recommend.results import Recommendation

__all__ = ["recommendations_page", "write_report"]

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .8em 1em; margin: 1em 0; }
.card h3 { font-size: 1em; margin: 0 0 .4em; } .id { color: #777; font-weight: normal; }
.reason { color: #a05a00; } .parts { display: grid; grid-template-columns: 8em 1fr 5em;
  gap: 2px .6em; align-items: center; max-width: 36em; font-size: .9em; }
.bar { height: .8em; background: #4C72B0; } .bar.neg { background: #C44E52; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.paths { margin: .5em 0; } img { max-width: 100%; margin-top: .5em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _parts_html(parts: dict[str, float], scale: float) -> str:
    rows = []
    for name, value in parts.items():
        if abs(value) < 5e-4:
            continue
        width = 100.0 * abs(value) / scale if scale > 0 else 0.0
        rows.append(f'<span>{_e(name)}</span><div class="bar{" neg" if value < 0 else ""}" '
                    f'style="width:{width:.1f}%"></div>'
                    f'<span class="num">{shown_number(value, 3):+.3f}</span>')
    return f'<div class="parts">{"".join(rows)}</div>' if rows else ""


def _picture(rec: Recommender, r: Recommendation, user: str) -> str:
    from recommend.paths.drawing import paths_figure

    if not r.paths:
        return ""
    svg = paths_figure(r.paths, "svg", graph=rec.graph, influencers=rec.influencers(),
                       title=f"Why {r.item} for {user}")
    data = base64.b64encode(svg).decode("ascii")
    return f'<img alt="graph paths to {_e(r.item)}" src="data:image/svg+xml;base64,{data}">'


def _card(rec: Recommender, rank: int, r: Recommendation, user: str, scale: float,
          pictures: bool) -> str:
    title = shown_name(rec.graph.node_attrs(r.item).get("title"))
    reason = f'<p class="reason">{_e(r.reason)}</p>' if r.reason else ""
    sentences = "".join(f"<li>{_e(p.text)}</li>" for p in r.paths)
    paths = f'<ul class="paths">{sentences}</ul>' if sentences else "<p>no path to show</p>"
    return (f'<div class="card"><h3>{rank}. {_e(title or r.item)} '
            f'<span class="id">{_e(r.item)} &middot; '
            f'score {shown_number(r.score, 3):.3f}</span></h3>'
            f"{reason}{_parts_html(r.parts, scale)}{paths}"
            f"{_picture(rec, r, user) if pictures else ''}</div>")


def recommendations_page(rec: Recommender,
                         recommendations: Mapping[str, Sequence[Recommendation]], *,
                         title: str = "shopgraph recommendations",
                         pictures: bool = True) -> str:
    """The HTML page of each user's ``recommendations`` (user id -> list, in page order; see
    the module docstring)."""
    from recommend.paths.sentences import node_name

    sections = []
    for user, recs in recommendations.items():
        uid = rec.user_id(user)
        scale = max((abs(v) for r in recs for v in r.parts.values()), default=0.0)
        known = rec.graph.has_node(uid)
        who = node_name(rec.graph, uid) if known else "a user unknown to the graph"
        cards = "".join(_card(rec, n, r, uid, scale, pictures)
                        for n, r in enumerate(recs, start=1))
        sections.append(f'<h2>{_e(who)} <span class="id">{_e(uid)}</span></h2>'
                        f"{cards or '<p>nothing to recommend</p>'}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1>{''.join(sections)}</body></html>\n")


def write_report(rec: Recommender, recommendations: Mapping[str, Sequence[Recommendation]],
                 out: str | os.PathLike[str], *, pictures: bool = True) -> Path:
    """Write :func:`recommendations_page` to ``out`` atomically; the path written."""
    target = Path(out)
    atomic_write_text(target, recommendations_page(rec, recommendations, pictures=pictures))
    return target
