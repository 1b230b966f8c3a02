"""A word-level tokenizer built from a catalogue's own text, for CLIPs trained from scratch.

Why word-level and not BPE: a from-scratch CLIP here sees a few hundred titles. Every word
then needs to be one token with its own embedding, so that "red" in a prompt means exactly
what "red" meant in the titles; BPE merges learned from so little text would split words
arbitrarily. Words never seen map to ``[UNK]``. A fine-tuned pretrained CLIP keeps its own
tokenizer (the real CLIP BPE); this one is only for new models.

The tokenizer is a ``tokenizers`` WordLevel model wrapped in ``PreTrainedTokenizerFast``, so it
saves and loads with ``save_pretrained``/``from_pretrained`` beside the model, and every sequence
is ``[BOS] words… [EOS]`` (the CLIP text tower pools at the first ``[EOS]``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

PAD, UNK, BOS, EOS = "[PAD]", "[UNK]", "[BOS]", "[EOS]"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, as the tokenizer splits them."""
    return _WORD.findall(text.lower())


def build_word_tokenizer(
    texts: Iterable[str], *, min_count: int = 1, max_vocab: int = 20_000, max_length: int = 32
) -> Any:
    """A ``PreTrainedTokenizerFast`` whose vocabulary is the words of ``texts``.

    >>> tok = build_word_tokenizer(["a red shoe", "a blue shoe"])
    >>> tok.convert_ids_to_tokens(tok("red shoes")["input_ids"])
    ['[BOS]', 'red', '[UNK]', '[EOS]']
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    counts = Counter(w for text in texts for w in words(text))
    kept = [w for w, n in counts.most_common(max_vocab) if n >= min_count]
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in sorted(kept):
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    core.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()]
    )
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}", special_tokens=[(BOS, vocab[BOS]), (EOS, vocab[EOS])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        model_max_length=max_length,
    )
