"""Render a graph path as one plain sentence, from node attributes (names, titles, post text).

Each edge becomes a clause "<subject> <verb> <object>" (an aggregate hop says over how many
people: :mod:`recommend.paths.privacy`; a session hop also within what time:
:mod:`recommend.paths.sequence`; the path's user is "You", unless
``first_person=False``: an item-to-item path names its first node like any other); a clause
about the previous clause's user object continues with ", who ..."; one with the previous
clause's subject and verb continues with "and <object>" ("@mia bought A and B"); a post that
mentions the next node reads "@mia's post about Hoka" (its mention clause is then implied), an
image reached from its product reads "the photo of <product>", and a climb of two products to
a shared broader category is one clause (:func:`recommend.paths.alike.climb_words`).
:func:`group_note` adds how many of the user's own acts lead to a path's shared entity, when
the path stands for all of them ("; you rated 36 in Sci-Fi").

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> _ = g.add_node("user:1", name="Ann"); _ = g.add_node("product:A", title="Trail Mug")
>>> _ = g.add_node("product:B", title="Camp Kettle")
>>> g.add_edges("purchased", ["user:1"] + [f"user:{k}" for k in range(2, 8)] * 2,
...             ["product:A"] + ["product:A"] * 6 + ["product:B"] * 6)
>>> render_path(g, ("user:1", "product:A", "product:B"),
...             (("user:1", "purchased", "product:A"), ("product:A", "co_purchased", "product:B")))
'You bought Trail Mug; 6 people who bought Trail Mug also bought Camp Kettle'
>>> g.add_edges("purchased", ["user:1"], ["product:B"])
>>> render_path(g, ("product:A", "user:1", "product:B"),
...             (("user:1", "purchased", "product:A"), ("user:1", "purchased", "product:B")),
...             first_person=False)
'Ann bought Trail Mug and Camp Kettle'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from recommend.paths.alike import climb_span, climb_words
from recommend.paths.privacy import people
from recommend.paths.quality import block_columns
from recommend.paths.second_person import second_person, you_form
from recommend.paths.sequence import SequenceHop, sequence_verb, window_words
from recommend.paths.wording import latest_time, product_words, readable, segment_words, when
from recommend.shown import shown_name

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["group_note", "known_names", "node_name", "render_path"]

# relation -> (third person, "also" variant); "{s}" the edge's source, "{o}" its destination.
_TEMPLATES: dict[str, tuple[str, str]] = {
    "follows": ("{s} follows {o}", "{s} also follows {o}"),
    "authored": ("{s} wrote {o}", "{s} also wrote {o}"),
    "liked": ("{s} liked {o}", "{s} also liked {o}"),
    "commented": ("{s} commented on {o}", "{s} also commented on {o}"),
    "shared": ("{s} shared {o}", "{s} also shared {o}"),
    "viewed": ("{s} viewed {o}", "{s} also viewed {o}"),
    "clicked": ("{s} clicked on {o}", "{s} also clicked on {o}"),
    "carted": ("{s} put {o} in the cart", "{s} also put {o} in the cart"),
    "purchased": ("{s} bought {o}", "{s} also bought {o}"),
    "rated": ("{s} rated {o}", "{s} also rated {o}"),
    "mentions": ("{s} mentions {o}", "{s} also mentions {o}"),
    "comments_on": ("{s} is a comment on {o}", "{s} is also a comment on {o}"),
    "has_image": ("{o} is a photo of {s}", "{o} is also a photo of {s}"),
    "depicts": ("{s} shows {o}", "{s} also shows {o}"),
    "made_by": ("{o} makes {s}", "{o} also makes {s}"),
    "in_category": ("{s} is in {o}", "{s} is also in {o}"),
    "broader": ("{s} is a kind of {o}", "{s} is also a kind of {o}"),
    "about": ("{s} is about {o}", "{s} is also about {o}"),
    "similar": ("{s} is similar to {o}", "{s} is also similar to {o}"),
    "described_like": ("{s} is described like {o}", "{s} is also described like {o}"),
    "co_bought": ("{n} who bought {s} also bought {o}",) * 2,
    "co_purchased": ("{n} who bought {s} also bought {o}",) * 2,
    "co_rated": ("{n} who rated {s} also rated {o}",) * 2,
    "co_liked": ("{n} who liked {s} also liked {o}",) * 2,
    "co_carted": ("{n} who put {s} in the cart also put {o} in the cart",) * 2,
    "co_clicked": ("{n} who clicked on {s} also clicked on {o}",) * 2,
    "co_viewed": ("{n} who viewed {s} also viewed {o}",) * 2,
    "co_engaged": ("{n} who showed interest in {s} also showed interest in {o}",) * 2,
    "co_posted": ("{n} who wrote or reacted to posts about {s} did so for {o} too",) * 2,
    "members_bought": ("{c} of {s} bought {o}",) * 2,
    "members_rated": ("{c} of {s} rated {o}",) * 2,
    "members_engaged": ("{c} of {s} showed interest in {o}",) * 2,
    # only ever from the path's own user ({s} is "You"): who they are is never said
    "followees_bought": ("{n} you follow bought {o}",) * 2,
    "followees_rated": ("{n} you follow rated {o}",) * 2,
    "also_bought": ("people who bought {s} also bought {o}",) * 2,
    "also_viewed": ("people who viewed {s} also viewed {o}",) * 2,
    "bought_together": ("{s} is often bought together with {o}",) * 2,
    "interested_in": ("{s} is into {o}", "{s} is also into {o}"),
    "member_of": ("{s} is one of {o}", "{s} is also one of {o}"),
}
#: The user's own acts whose time a sentence gives in words ("You bought X last week").
_DATED = frozenset({"purchased", "carted", "rated", "liked", "commented", "shared", "viewed",
                    "clicked", "authored"})


def node_name(graph: KnowledgeGraph, node_id: str, *, influencers: Collection[str] = ()) -> str:
    """A readable name: @handle or name for users, titles for products, names otherwise."""
    node_type, _, raw = node_id.partition(":")
    if node_type == "user":
        name = _user_name(graph, node_id)
        return f"{name} (influencer)" if node_id in influencers else name
    attrs = graph.node_attrs(node_id) if graph.has_node(node_id) else {}
    if node_type == "product":
        return shown_name(product_words(graph, node_id, attrs))
    if node_type == "segment":
        return shown_name(str(attrs.get("name")) if attrs.get("name") and not attrs.get("facet")
                          else segment_words(graph, node_id, attrs))
    if node_type == "post":
        text = shown_name(" ".join(str(attrs.get("text") or "").split()[:8]))
        return f'a post "{text}"' if text else "a post"
    if node_type == "image":
        return "an image"
    return shown_name(str(attrs.get("name") or readable(raw) or f"a {node_type}"))


def _user_name(graph: KnowledgeGraph, user: str) -> str:
    """A user's @handle, else name, else "a shopper": read from the graph alone, so kept until
    it changes, across requests (a followee is named under many users' paths)."""
    kept = graph.cached(("path user names",), dict)
    found = kept.get(user)
    if found is None:
        attrs = graph.node_attrs(user) if graph.has_node(user) else {}
        extra = attrs.get("attributes") or {}
        handle = extra.get("handle") if isinstance(extra, dict) else None
        found = kept.setdefault(user, shown_name(f"@{handle}" if handle else attrs.get("name")
                                                 or "a shopper"))
    return found


def _post_author(graph: KnowledgeGraph, post: str) -> str | None:
    """The source of the post's first ``authored`` edge (as :meth:`~kg.graph.KnowledgeGraph.
    neighbors` lists them), read from the index arrays: no :class:`~kg.edges.Edge` made."""
    for nb in graph.neighbor_indices(post, "authored", direction="in"):
        return graph.node_id(nb.src_type, int(nb.indices[0]))
    return None


def _post_facts(graph: KnowledgeGraph, post: str) -> tuple[str | None, str]:
    """(:func:`_post_author`, "comment" for a comment the nlp stage made a node of, else
    "post"): read from the graph alone, so kept until it changes, across requests (a
    followee's post is named under many users' paths)."""
    kept = graph.cached(("path post facts",), dict)
    found = kept.get(post)
    if found is None:
        noun = "comment" if graph.node_attrs(post).get("kind") == "comment" else "post"
        found = kept.setdefault(post, (_post_author(graph, post), noun))
    return found


def render_path(
    graph: KnowledgeGraph,
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, str]],
    *,
    influencers: Collection[str] = (),
    first_person: bool = True,
    now: float | None = None,
    acts: Mapping[tuple[str, str], float] | None = None,
    known: dict[str, str] | None = None,
) -> str:
    """One sentence for a path (``nodes[0]`` is "You" if ``first_person``); see the module
    docstring. The user's own first act is dated in words relative to ``now`` (default: the
    graph's latest event, :func:`recommend.paths.wording.latest_time`); ``acts``:
    ``nodes[0]``'s :func:`~recommend.paths.quality.user_interactions`, when the caller has
    them (the same date, without reading the user's edges again); ``known``: the
    :func:`node_name` of nodes other than users and posts, kept across calls while the graph
    is unchanged (read and filled here)."""
    you = nodes[0] if first_person else None
    skip: set[int] = set()
    names: dict[str, str] = {}
    for t, node in enumerate(nodes):
        if node in names or node == you:
            continue
        kind = node.partition(":")[0]
        if kind == "post":
            names[node] = _post_name(graph, node, you, nodes, edges, t, skip, influencers,
                                     known)
        elif kind == "image":
            for k, e in ((t, edges[t] if t < len(edges) else None),
                         (t - 1, edges[t - 1] if t > 0 else None)):
                if e is not None and e[1] == "has_image" and e[2] == node:
                    names[node] = f"the photo of {node_name(graph, e[0])}"
                    skip.add(k)
                    break
            else:
                names[node] = node_name(graph, node)
        elif known is not None and kind != "user":  # a user's name depends on influencers
            found = known.get(node)
            names[node] = found if found is not None else _known_name(graph, node, known)
        else:
            names[node] = node_name(graph, node, influencers=influencers)
    if len(set(names.values())) < len(names):
        _tell_apart(names, edges)
    if you is not None:
        names[you] = "You"
    clauses: list[str] = []
    said: set[tuple[str, str]] = set()
    prev_subject = prev_object = None
    prev_verb: tuple[str, str] | None = None  # (relation, grammatical subject) of the last clause
    climb = climb_span(nodes, edges)  # a climb to a shared broader category: one clause
    for t, (src, rel, dst) in enumerate(edges):
        if climb is not None and climb[0] <= t <= climb[1]:
            if t == climb[0]:
                clauses.append(climb_words(names, nodes, edges, climb))
                prev_subject = prev_object = prev_verb = None
            continue
        if t in skip:
            continue
        pair = _TEMPLATES.get(rel) or _template(graph, rel)
        hop = (rel, dst)
        template = pair[1 if hop in said else 0]
        said.add(hop)
        subject_first, side, counted, has_c = _FORMS.get(template) or _form(template)
        if side:  # "<subject> <verb> <object>": (subject, object) is (src, dst) or (dst, src)
            verb = (rel, src if side == 1 else dst)
            if prev_verb == verb:
                clauses[-1] += f" and {names[dst if side == 1 else src]}"
                prev_subject, prev_object = (src if subject_first else None), dst
                continue
            prev_verb = verb
        else:
            prev_verb = None
        said_of_you = src == you and subject_first
        form = you_form(template) if said_of_you and not counted else None
        if counted:
            count = people(graph, (src, rel, dst))
            them = "them" if has_c and src == prev_object else names[src]
            text = template.format(s=them, o=names[dst], c=count,
                                   n="1 person" if count == 1 else f"{count} people")
        elif form is not None:  # (its second person, made once per template)
            text = form.format(s=names[src], o=names[dst])
        else:
            text = template.format(s=names[src], o=names[dst])
        if said_of_you:
            if form is None:
                text = "You" + second_person(text[len(names[src]):])
            if t == 0 and rel in _DATED:
                text += _dated(graph, src, rel, dst, now, acts)
        # (the clause after its subject, joined to the last one: about its object or subject)
        if subject_first and src == prev_object and src != you and src.startswith("user:"):
            clauses[-1] += f", who {text[len(names[src]) + 1:]}"
        elif subject_first and src == prev_subject:
            clauses[-1] += f" and {text[len(names[src]) + 1:]}"
        else:
            clauses.append(text)
        prev_subject, prev_object = (src if subject_first else None), dst
    sentence = "; ".join(clauses)
    return sentence[:1].upper() + sentence[1:]


def _tell_apart(names: dict[str, str], edges: Sequence[tuple[str, str, str]]) -> None:
    """Two products of one name in a path ("6 people who liked Mug also liked Mug"): each
    name gets its product's id ("Mug (p7)"), a post's name about one of them too ("a post
    about Mug (p7)", :func:`_post_name`)."""
    counts: dict[str, int] = {}
    for node, name in names.items():
        if node.startswith("product:"):
            counts[name] = counts.get(name, 0) + 1
    for node, name in names.items():
        if node.startswith("product:") and counts.get(name, 0) > 1:
            names[node] = f"{name} ({node.partition(':')[2]})"
            for src, rel, dst in edges:
                if dst == node and rel == "mentions" and names.get(src, "").endswith(
                        f" about {name}"):
                    names[src] = names[src].removesuffix(name) + names[node]


def known_names(graph: KnowledgeGraph) -> dict[str, str]:
    """The :func:`node_name` of nodes other than users and posts asked so far, kept until the
    graph changes (read from it alone): ``render_path``'s ``known`` across requests."""
    return graph.cached(("path node names",), dict)


def _known_name(graph: KnowledgeGraph, node: str, known: dict[str, str]) -> str:
    """:func:`node_name` of a node other than a user, kept in ``known`` across a request."""
    found = known.get(node)
    return found if found is not None else known.setdefault(node, node_name(graph, node))


def _template(graph: KnowledgeGraph, rel: str) -> tuple[str, str]:
    """``rel``'s templates; a session hop's (:mod:`recommend.paths.sequence`) says its verb
    and window: "{n} who rated {s} rated {o} within the next hour"."""
    found = _TEMPLATES.get(rel)
    if found is not None:
        return found
    hop = SequenceHop.parse(rel)
    if hop is None:
        raise KeyError(f"no sentence template for the relation {rel!r}")
    verb = sequence_verb(graph)
    return (f"{{n}} who {verb} {{s}} {verb} {{o}} within the next {window_words(hop.window)}",
            ) * 2


def _dated(graph: KnowledgeGraph, src: str, rel: str, dst: str, now: float | None,
           acts: Mapping[tuple[str, str], float] | None = None) -> str:
    """" last week" for the latest stored time of the edge, "" when it has none; ``acts``:
    ``src``'s timed out-edges (:func:`~recommend.paths.quality.user_interactions`: the
    same latest times, stored times being finite)."""
    times: list[float] = []
    if acts is not None:
        found = acts.get((rel, dst))
        times = [] if found is None else [found]
    else:
        j, dst_type = graph.index(dst), dst.partition(":")[0]
        for nb in graph.neighbor_indices(src, rel):  # index arrays: no Edge per user's act
            hit = nb.positions[nb.indices == j] if nb.dst_type == dst_type else ()
            if len(hit):
                ts = block_columns(graph, nb.key).ts[hit]
                times += [t for t in ts.tolist() if t > -1e299]  # NaN fails too
    now = latest_time(graph) if now is None else now
    return "" if not times or now is None else " " + when(max(times), now=now)


#: A template's form (:func:`_form`), by template, filled as templates are used.
_FORMS: dict[str, tuple[bool, int, bool, bool]] = {}


def _form(template: str) -> tuple[bool, int, bool, bool]:
    """(whether it starts with its source "{s} ", 1 for a "{s} <verb> {o}" template and 2 for
    a "{o} <verb> {s}" one (else 0), whether it counts people, whether it says "{c}"), kept
    in :data:`_FORMS`."""
    side = 1 if template.startswith("{s} ") and template.endswith(" {o}") else \
        2 if template.startswith("{o} ") and template.endswith(" {s}") else 0
    has_c = "{c}" in template
    return _FORMS.setdefault(template, (template.startswith("{s} "), side,
                                        "{n}" in template or has_c, has_c))


def _post_name(
    graph: KnowledgeGraph,
    post: str,
    you: str | None,
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, str]],
    t: int,
    skip: set[int],
    influencers: Collection[str],
    known: dict[str, str] | None = None,
) -> str:
    """"@mia's post about X" (X = what it mentions next on the path, else a snippet); a
    comment the nlp stage made a node of is called a comment. ``known``: as in
    :func:`render_path`."""
    author, noun = _post_facts(graph, post)
    if t > 0 and author is not None and edges[t - 1] == (author, "authored", post):
        owner = f"a {noun}"  # "You wrote a post about X", "@mia, who wrote a post about X"
    elif author == you:
        owner = f"your {noun}"
    elif author is not None:
        owner = f"{node_name(graph, author, influencers=influencers)}'s {noun}"
    else:
        owner = f"a {noun}"
    if t < len(edges) and edges[t][:2] == (post, "mentions"):
        skip.add(t)
        about = edges[t][2]
        named = node_name(graph, about) if known is None or about.startswith("user:") \
            else _known_name(graph, about, known)
        return f"{owner} about {named}"
    snippet = node_name(graph, post).removeprefix("a post ")
    return f"{owner} {snippet}"


#: The user's own first act, as a group note's verb.
_GROUP_VERBS = {"purchased": "bought", "rated": "rated", "liked": "liked", "authored": "wrote"}
#: How the node before the shared entity joins it, as a group note's preposition.
_GROUP_LINKS = {"in_category": "in", "made_by": "by", "about": "about", "mentions": "about"}


def group_note(graph: KnowledgeGraph, nodes: Sequence[str],
               edges: Sequence[tuple[str, str, str]], size: int) -> str:
    """"; you rated 36 in Sci-Fi": said after a 3-hop path ``You -act-> A -link-> E <- item``
    that stands for the ``size`` of the user's acts reaching the shared entity E; "" when
    the path is not of that form (or ``size`` < 2)."""
    if size < 2 or len(edges) != 3 or edges[0][0] != nodes[0]:
        return ""
    verb, link = _GROUP_VERBS.get(edges[0][1]), _GROUP_LINKS.get(edges[1][1])
    if verb is None or link is None:
        return ""
    noun = " posts" if nodes[1].startswith("post:") else ""
    entity = nodes[2]  # a brand, category, concept or product (a user's name would vary)
    name = node_name(graph, entity) if entity.startswith(("user:", "post:")) \
        else _known_name(graph, entity, known_names(graph))
    return f"; you {verb} {size}{noun} {link} {name}"
