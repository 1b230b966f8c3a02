"""The attribute ruler's matching through hash tables: the same matches, a fraction of the cost.

spaCy's ``Matcher`` has no index: every token starts a state for every pattern (179 in
en_core_web_sm's attribute ruler), so the ruler cost ~19 µs of CPU a token, as much as the
tok2vec layer, and a fifth of the size world's nlp stage. Nearly all its rules are one token
whose attributes equal given strings (``{"TAG": "NNS"}``, ``{"LOWER": "is", "TAG": "VBZ"}``,
with ``IN`` sets spread over one value each): those are looked up in a table per attribute
combination, keyed by the token's values from ``Doc.to_array``. Every other pattern (more than
one token, ``NOT_IN``, ``REGEX``, other attributes or operators) stays in a spaCy ``Matcher``
of its own. Both give ``(key, start, end)`` for the ruler's keys; the union, without repeats
(as the ``Matcher`` gives them) and sorted as :meth:`AttributeRuler.match` sorts, is what the
ruler then applies in order.

On the size world's texts every token's tag, POS, morphology, lemma and dependency were the
same with and without it (20,004 posts and product descriptions).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import AttributeRuler
    from spacy.tokens import Doc

#: Attributes looked up in the tables: the ``Matcher`` compares each as the hash of a string.
INDEXED = ("LOWER", "TAG", "DEP", "ORTH")

Match = tuple[int, int, int, int]  # (rule number, match id, start, end), as the ruler sorts


def index_attribute_ruler(nlp: Language) -> None:
    """Make ``nlp``'s attribute ruler, if it has one, match through :class:`IndexedRules`."""
    if "attribute_ruler" in nlp.pipe_names:
        ruler = nlp.get_pipe("attribute_ruler")
        ruler.match = IndexedRules(ruler).match


def _plain(token: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The one-value forms of a token pattern whose attributes are all :data:`INDEXED` and equal
    a string or lie in a set of strings (None: another kind of pattern)."""
    forms: list[dict[str, Any]] = [{}]
    for attr, value in token.items():
        if attr not in INDEXED:
            return None
        if isinstance(value, dict) and set(value) == {"IN"} and isinstance(value["IN"], list):
            choices = value["IN"]
        else:
            choices = [value]
        if not all(isinstance(c, str) for c in choices):
            return None
        forms = [{**f, attr: c} for f in forms for c in dict.fromkeys(choices)]
    return forms if token else None


class IndexedRules:
    """:meth:`match` in place of ``ruler.match``: table lookups for one-token rules of plain
    strings, a ``Matcher`` for the rest (module doc). A ruler changed since (rules added or
    cleared) is matched by its own method."""

    def __init__(self, ruler: AttributeRuler) -> None:
        from spacy.attrs import IDS
        from spacy.matcher import Matcher

        self.ruler = ruler
        self._seen = (ruler.matcher, len(ruler.attrs), len(ruler.matcher))
        strings = ruler.vocab.strings
        self._columns = [IDS[a] for a in INDEXED]
        tables: dict[tuple[str, ...], dict[Any, list[int]]] = {}
        self.rest = Matcher(ruler.vocab, validate=False)
        for number, rule in enumerate(ruler.patterns):
            key = strings.add(str(number))  # the ruler's own key of rule ``number``
            left = []
            for pattern in rule["patterns"]:
                forms = _plain(pattern[0]) if len(pattern) == 1 else None
                if forms is None:
                    left.append(pattern)
                    continue
                for form in forms:
                    attrs = tuple(sorted(form))
                    value = tuple(strings.add(form[a]) for a in attrs)
                    found = tables.setdefault(attrs, {}).setdefault(
                        value if len(value) > 1 else value[0], [])
                    if key not in found:
                        found.append(key)
            if left:
                self.rest.add(key, left)
        self._tables: list[tuple[Callable[[list[int]], Any], dict[Any, list[int]]]] = [
            (itemgetter(*(INDEXED.index(a) for a in attrs)), table)
            for attrs, table in tables.items()]

    def match(self, doc: Doc) -> list[Match]:
        """The ruler's matches in ``doc``, sorted as :meth:`AttributeRuler.match` sorts them."""
        ruler = self.ruler
        if (ruler.matcher, len(ruler.attrs), len(ruler.matcher)) != self._seen:
            return type(ruler).match(ruler, doc)
        found: set[tuple[int, int, int]] = set()
        if len(self.rest):
            found.update(self.rest(doc, allow_missing=True, as_spans=False))
        rows = doc.to_array(self._columns).tolist()
        for i, row in enumerate(rows):
            for values, table in self._tables:
                keys = table.get(values(row))
                if keys:
                    found.update((k, i, i + 1) for k in keys)
        strings = ruler.vocab.strings
        return sorted((int(strings[m]), m, s, e) for m, s, e in found)
