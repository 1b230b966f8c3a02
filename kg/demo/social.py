"""The demo world's people: latent tastes, influencers, spammers and the follow graph.

Every user belongs to one persona (segment), prefers 2-3 leaf categories (mostly from the
persona, sometimes one from elsewhere), has two favourite brands active in those
categories and a price level; in the looks world most also have a look (a palette of colours
they pick when the picture or the text shows it, :data:`kg.demo.people.LOOKS`), the rest do
not mind the colour.
Follows are drawn with homophily (70 % within the follower's segment) and a heavy-tailed
popularity: a few influencers get a large share of all edges.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kg.demo.lines import chunked_rows
from kg.demo.people import CITIES, FIRST_NAMES, LOOK_SHARE, LOOKS, PERSONAS
from kg.demo.sampling import sample_in_groups
from kg.demo.vocabulary import BRANDS, COLOURS, LEAVES, TIER_NAMES
from kg.records import User

START_TS = 1_746_057_600  # 2025-05-01T00:00:00Z: the world's six months start here
SPAN_S = 183 * 86_400
_LEAF_INDEX = {lf.slug: i for i, lf in enumerate(LEAVES)}
_LOOK_NAMES = tuple(LOOKS)
#: (looks, colours): whether a look's palette holds a colour (columns in COLOURS order)
LOOK_COLOURS = np.array([[c in LOOKS[name] for c in COLOURS] for name in _LOOK_NAMES])


def user_id(index: int, n: int) -> str:
    """The id of user ``index`` of ``n``: ``u0001``."""
    return f"u{index + 1:0{max(4, len(str(n)))}d}"


@dataclass(frozen=True)
class Society:
    """Users, their latent tastes and who follows whom (as index arrays)."""

    users: list[User]
    segment: np.ndarray  # persona index per user
    prefs: np.ndarray  # (n_users, 3) preferred leaf indices, -1 where absent
    fav_brands: np.ndarray  # (n_users, 2) brand indices
    price_level: np.ndarray  # 0 budget, 1 mid, 2 premium
    look: np.ndarray  # index into LOOKS, -1: the colour does not matter to them
    activity: np.ndarray  # positive weight: how much a user does
    influencer: np.ndarray  # bool
    spammer: np.ndarray  # bool
    follower: np.ndarray  # follow edges, sorted by follower then followee
    followee: np.ndarray
    follow_ts: np.ndarray

    def follows_of(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR offsets (n_users + 1) and followees of every user."""
        offsets = np.searchsorted(self.follower, np.arange(len(self.users) + 1))
        return offsets, self.followee

    def in_look(self, users: np.ndarray, colours: np.ndarray) -> np.ndarray:
        """Whether each colour (index into COLOURS) is in the look of the user beside it
        (False for users without a look)."""
        look = self.look[users]
        return (look >= 0) & LOOK_COLOURS[np.maximum(look, 0), colours]

    def gold_profiles(self) -> list[dict[str, object]]:
        """Each user's latent tastes, for checking profile and segment code."""
        rows = []
        for i, user in enumerate(self.users):
            leaves = [LEAVES[c].slug for c in dict.fromkeys(self.prefs[i].tolist()) if c >= 0]
            rows.append(
                {
                    "user": user.id,
                    "segment": PERSONAS[self.segment[i]].name,
                    "categories": leaves,
                    "brands": [BRANDS[b].slug for b in dict.fromkeys(self.fav_brands[i].tolist())],
                    "price_level": TIER_NAMES[self.price_level[i]],
                    "look": _LOOK_NAMES[self.look[i]] if self.look[i] >= 0 else None,
                    "influencer": bool(self.influencer[i]),
                    "spammer": bool(self.spammer[i]),
                }
            )
        return rows


def _tastes(rng: np.random.Generator, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Preferred leaves (n, 3; -1 absent) and two favourite brands per user."""
    n = len(segment)
    width = max(len(p.leaves) for p in PERSONAS)
    table = np.array(
        [[_LEAF_INDEX[s] for s in p.leaves] + [-1] * (width - len(p.leaves)) for p in PERSONAS]
    )
    sizes = np.array([len(p.leaves) for p in PERSONAS])
    keys = rng.random((n, width))
    keys[np.arange(width)[None, :] >= sizes[segment][:, None]] = 2.0  # padding sorts last
    order = np.argsort(keys, axis=1)[:, :3]
    prefs = table[segment[:, None], order]
    n_pref = rng.choice([2, 3], size=n, p=[0.45, 0.55])
    cross = rng.random(n) < 0.25  # one interest outside the persona
    last = n_pref - 1
    prefs[np.arange(n), last] = np.where(
        cross, rng.integers(0, len(LEAVES), n), prefs[np.arange(n), last]
    )
    prefs[n_pref == 2, 2] = -1

    leaf_brands = [[b for b, br in enumerate(BRANDS) if lf.slug in br.leaves] for lf in LEAVES]
    bwidth = max(len(lb) for lb in leaf_brands)
    btable = np.array([(lb * bwidth)[:bwidth] for lb in leaf_brands])
    bsizes = np.array([len(lb) for lb in leaf_brands])
    fav = np.empty((n, 2), dtype=np.int64)
    for col in range(2):
        leaf = prefs[:, col]
        fav[:, col] = btable[leaf, rng.integers(0, 1 << 30, n) % bsizes[leaf]]
    return prefs, fav


def _follow_graph(
    rng: np.random.Generator, segment: np.ndarray, influencer: np.ndarray, fame: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = len(segment)
    mean_degree = min(14.0, max(2.0, n / 8))
    degree = np.clip(np.rint(rng.lognormal(np.log(mean_degree) - 0.5, 1.0, n)), 1, 400)
    follower = np.repeat(np.arange(n), degree.astype(np.int64))
    m = len(follower)
    same = rng.random(m) < 0.7
    target_segment = np.where(same, segment[follower], rng.integers(0, len(PERSONAS), m))
    want_influencer = rng.random(m) < 0.4
    group_of = segment * 2 + influencer.astype(np.int64)
    followee = sample_in_groups(
        rng, group_of, fame, target_segment * 2 + want_influencer.astype(np.int64)
    )
    keep = follower != followee
    pairs = np.sort(follower[keep] * n + followee[keep])
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # no duplicate edges
    return pairs // n, pairs % n


def build_society(rng: np.random.Generator, n_users: int, *, looks: bool = False) -> Society:
    """Draw ``n_users`` users with tastes, a few influencers and spammers, and the follows."""
    n = n_users
    segment = rng.choice(len(PERSONAS), size=n, p=[0.22, 0.2, 0.2, 0.19, 0.19])
    prefs, fav = _tastes(rng, segment)
    price_level = rng.choice(3, size=n, p=[0.3, 0.45, 0.25])
    activity = rng.lognormal(0.0, 0.8, n)
    n_influencers = max(3, n // 40)
    influencer = np.zeros(n, dtype=bool)
    influencer[rng.choice(n, size=min(n, n_influencers), replace=False)] = True
    spammer = np.zeros(n, dtype=bool)
    if n >= 50:
        candidates = np.flatnonzero(~influencer)
        spammer[rng.choice(candidates, size=3, replace=False)] = True
    fame = np.where(influencer, (rng.pareto(1.5, n) + 1.0) * 40.0, rng.pareto(2.5, n) + 1.0)
    fame = np.where(spammer, 0.05, fame)
    follower, followee = _follow_graph(rng, segment, influencer, fame)
    follow_ts = np.where(
        rng.random(len(follower)) < 0.85,
        START_TS - rng.integers(0, 365 * 86_400, len(follower)),
        START_TS + rng.integers(0, SPAN_S, len(follower)),
    ).astype(np.int64)

    name_pick = rng.integers(0, 1 << 30, size=(n, 6)).tolist()
    ages = np.clip(np.rint(rng.normal(33, 10, n)), 16, 75).astype(int).tolist()
    # drawn last, so the draws above (and everything they decide) stay as they were
    look = np.where(rng.random(n) < LOOK_SHARE, rng.integers(0, len(LOOKS), n), -1)
    look = look if looks else np.full(n, -1)
    seg_list, infl_list, spam_list = segment.tolist(), influencer.tolist(), spammer.tolist()
    users = []
    for i in range(n):
        p = name_pick[i]
        first = FIRST_NAMES[p[0] % len(FIRST_NAMES)]
        persona = PERSONAS[seg_list[i]]
        bio = persona.bios[p[1] % len(persona.bios)]
        if infl_list[i]:
            bio = f"{bio}. Creator, collabs via DM"
        elif spam_list[i]:
            bio = "Best deals online!!! Click the link"
        users.append(
            User(
                id=user_id(i, n),
                name=f"{first} {chr(65 + p[2] % 26)}.",
                age=ages[i],
                gender="nonbinary" if p[3] % 40 == 0 else ("female", "male")[p[3] % 2],
                location=CITIES[p[4] % len(CITIES)],
                bio=bio,
                attributes={"handle": f"{first.lower()}{i + 1}"},
            )
        )
    return Society(
        users,
        segment,
        prefs,
        fav,
        price_level,
        look,
        activity,
        influencer,
        spammer,
        follower,
        followee,
        follow_ts,
    )


def follow_lines(society: Society) -> Iterator[str]:
    """The follows as JSON Lines, byte for byte what :func:`kg.jsonl.write_jsonl` writes for
    :class:`kg.records.Follow` records, formatted without per-row dicts."""
    ids = [json.dumps(u.id) for u in society.users]
    columns = (society.follower, society.followee, society.follow_ts.astype(np.float64))
    for a, b, t in chunked_rows(columns):
        yield f'{{"follower":{ids[a]},"followee":{ids[b]},"ts":{t!r}}}\n'
