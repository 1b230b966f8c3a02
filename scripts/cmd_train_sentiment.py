"""``shopgraph train-sentiment FILE --out HEAD_FILE``: learn a sentiment head from labelled texts.

FILE is CSV (header row) or JSON Lines (``.jsonl``, optionally gzipped), one text a row, with a
label (positive / negative / neutral) or a 1-5 star rating (1-2 negative, 3 neutral, 4-5
positive); the fields are found among the usual names or given with ``--text-field``,
``--label-field``, ``--rating-field`` (see :mod:`nlp.sentiment_data`). The head (a logistic
regression over the packaged sentence embedding and VADER's scores,
:class:`nlp.sentiment_head.SentimentHead`) is written atomically as ``.npz``; ``shopgraph build
--sentiment-head HEAD_FILE`` then scores mention sentiment with it. A bad row is an error
naming file, line and reason (exit code 2).

``--fine-tune`` instead trains the sentence encoder itself with a linear layer
(:mod:`nlp.sentiment_finetune`; torch, ``--epochs``, ``--max-texts`` to bound the time) and writes
a folder (safetensors and JSON) at ``--out``. Cross-domain it did better than the head (trained
on the 14,640 airline tweets: SXSW macro-F1 0.524 vs 0.476, airline -> Amazon 0.501 vs 0.488,
``bench/sentiment_transfer.py``), at the cost of 6 min of training on 2 cores, not seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.embed import Embedder
    from nlp.shared_encode import ChunkedWork


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train-sentiment`` sub-command."""
    parser = subparsers.add_parser("train-sentiment",
                                   help="train a sentiment head on labelled posts or reviews",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, metavar="FILE", help="labelled CSV or JSON Lines")
    parser.add_argument("--out", type=Path, required=True, metavar="HEAD_FILE",
                        help="the head file to write (.npz), or the folder with --fine-tune")
    parser.add_argument("--text-field", metavar="F", help="the text column (default: found)")
    parser.add_argument("--label-field", metavar="F",
                        help="the positive/negative/neutral column (default: found)")
    parser.add_argument("--rating-field", metavar="F",
                        help="a 1-5 star column to label by instead (default: found)")
    parser.add_argument("--c", type=float, default=0.03, metavar="C",
                        help="inverse regularisation strength (default 0.03)")
    parser.add_argument("--fine-tune", action="store_true",
                        help="fine-tune the encoder too and write a model folder (slow)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing head file")
    parser.add_argument("--epochs", type=int, default=1, metavar="N",
                        help="fine-tuning epochs (default 1)")
    parser.add_argument("--max-texts", type=int, metavar="N",
                        help="fine-tune on a seeded subsample of N texts (default: all)")
    parser.set_defaults(func=run_train_sentiment)


def run_train_sentiment(args: argparse.Namespace) -> int:
    """Read the labelled file, fit the head, write it; print counts and where it went."""
    import csv

    from nlp.sentiment_data import read_labelled
    from nlp.sentiment_head import SentimentHead

    if not args.file.is_file():
        raise FileNotFoundError(f"{args.file}: labelled file not found")
    if args.fine_tune:  # a folder follows the folder rule of kg.ownership: checked before
        from kg.ownership import check_replaceable  # minutes of training, and again at the end

        check_replaceable(args.out, "folder")
    else:
        from kg.ownership import check_new_file

        check_new_file(args.out, overwrite=args.overwrite)
    start = time.perf_counter()
    try:
        data = read_labelled(args.file, text_field=args.text_field,
                             label_field=args.label_field, rating_field=args.rating_field)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{args.file}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ValueError(f"{args.file}: not readable CSV ({exc})") from None
    try:
        if args.fine_tune:
            fine_tune_model(data.texts, data.labels, args)
        else:
            SentimentHead(c=args.c).fit(data.texts, data.labels,
                                        progress_embedder(not args.no_progress)).save(args.out)
    except ValueError as exc:  # e.g. no text labelled neutral
        raise ValueError(f"{args.file}: {exc}") from None
    counts = ", ".join(f"{n:,} {label}" for label, n in data.counts().items())
    what = "fine-tuned a sentiment model" if args.fine_tune else "trained a sentiment head"
    print(f"{what} on {len(data.texts):,} texts of {args.file} ({counts}) in "
          f"{time.perf_counter() - start:.1f} s; wrote {args.out}")
    return 0


def fine_tune_model(texts: list[str], labels: list[str], args: argparse.Namespace) -> None:
    """Fine-tune the default encoder (:mod:`nlp.sentiment_finetune`), write its folder."""
    from nlp.embed import default_embed_model
    from nlp.sentiment_finetune import FineTuneConfig, fine_tune

    if args.epochs < 1 or (args.max_texts is not None and args.max_texts < 3):
        raise ValueError("--epochs must be >= 1 and --max-texts >= 3")
    config = FineTuneConfig(epochs=args.epochs, max_texts=args.max_texts)
    from scripts.console import LOGGER

    log = None if args.no_progress else (lambda line: LOGGER.info("fine-tune %s", line))
    model, _ = fine_tune(texts, labels, default_embed_model(), config, log=log)
    model.save(args.out)


def progress_embedder(progress: bool, chunk: int = 1024) -> Embedder:
    """The default :class:`nlp.embed.Embedder`, embedding in chunks under a tqdm bar."""
    import numpy as np
    from tqdm import tqdm

    import nlp.embed

    shown = progress

    class _Embedder(nlp.embed.Embedder):
        def encode(self, texts: list[str], *, progress: bool = True,
                   work: ChunkedWork | None = None) -> np.ndarray:
            if work is not None:  # shared chunks (nlp.shared_encode): their own progress
                return super().encode(texts, progress=False, work=work)
            with tqdm(total=len(texts), desc="embedding", unit="text",
                      disable=not (shown and progress) or len(texts) < chunk) as bar:
                rows = []
                for i in range(0, len(texts), chunk):  # (one bar: this one)
                    rows.append(super().encode(texts[i:i + chunk], progress=False))
                    bar.update(len(rows[-1]))
            return np.concatenate(rows) if rows else super().encode([])

    return _Embedder()
