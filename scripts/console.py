"""The command line's console: messages through :mod:`logging` on stderr, progress bars.

Results go to stdout; everything else (notices, errors) goes through the ``shopgraph``
logger to stderr as ``shopgraph COMMAND: LEVEL: message``, so a pipe gets only results.
Progress bars are shown only when stderr is a terminal and ``--no-progress`` is not given;
:func:`set_progress` also switches the bars of the model libraries (huggingface_hub,
transformers, and :class:`nlp.embed.Embedder`'s sentence-transformers bar, which follows
:func:`huggingface_hub.utils.are_progress_bars_disabled`).
"""

from __future__ import annotations

import logging
import os
import sys

LOGGER = logging.getLogger("shopgraph")
_LABELS = {logging.WARNING: "notice: ", logging.ERROR: "error: ", logging.CRITICAL: "error: "}


class _Format(logging.Formatter):
    def __init__(self, command: str) -> None:
        super().__init__()
        self.prefix = f"shopgraph {command}: " if command else "shopgraph: "

    def format(self, record: logging.LogRecord) -> str:
        text = self.prefix + _LABELS.get(record.levelno, "") + record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup_logging(command: str, *, debug: bool = False) -> None:
    """Send the ``shopgraph`` logger's messages to the current stderr (DEBUG with ``debug``)."""
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format(command))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.DEBUG if debug else logging.INFO)
    LOGGER.propagate = False


def progress_wanted(no_progress: bool) -> bool:
    """Whether to draw progress bars: not switched off, and stderr is a terminal."""
    return not no_progress and sys.stderr.isatty()


def set_progress(enabled: bool) -> None:
    """Switch every progress bar on or off, the model libraries' included.

    Off also sets ``TQDM_DISABLE`` for tqdm bars made without a ``disable`` of their own
    (read when tqdm is first imported, which the commands do late). A user's own
    ``HF_HUB_DISABLE_PROGRESS_BARS=1`` keeps the hub's bars off.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    if not enabled:
        os.environ["TQDM_DISABLE"] = "1"
        disable_progress_bars()
    elif constants.HF_HUB_DISABLE_PROGRESS_BARS is not True:
        enable_progress_bars()
    if "transformers" in sys.modules:  # it copies the hub's switch when imported
        from transformers.utils import logging as hf_logging

        (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
