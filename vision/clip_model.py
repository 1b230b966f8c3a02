"""A CLIP model and its processor as one :class:`ClipBundle`: load, build small, save.

- :func:`load_clip` takes a hub name (``openai/clip-vit-base-patch32``, where a hub is
  reachable) or a folder written by ``save_pretrained``/:func:`save_clip`.
- :func:`new_clip` builds an untrained CLIP from :func:`small_clip_config` with a word-level
  tokenizer made from the catalogue's text (see :mod:`vision.text_tokenizer`); train it with
  :mod:`vision.training`.
- :func:`save_clip` writes model (safetensors), processor, tokenizer and a ``shopgraph_clip.json``
  provenance card into a folder atomically; :meth:`ClipBundle.describe` says which CLIP is used,
  so a build can report it plainly.

The image side uses ``CLIPImageProcessorPil`` (plain ``CLIPImageProcessor`` wants torchvision).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.atomic import atomic_dir, resolve_artifact_dir

CARD_FILE = "shopgraph_clip.json"


@dataclass(slots=True)
class ClipBundle:
    """A ``CLIPModel`` with its ``CLIPProcessor`` and where it came from.

    ``card`` is plain JSON data: ``source`` (hub name or folder), ``origin``
    (``"pretrained"``, ``"scratch"``, ``"fine-tuned"``) and, once trained, the training summary.
    """

    model: Any
    processor: Any
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    @property
    def image_size(self) -> int:
        return int(self.model.config.vision_config.image_size)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def describe(self) -> str:
        """One line naming this CLIP, its size and how it was trained."""
        vc = self.model.config.vision_config
        text = (
            f"CLIP {self.card.get('source', '(in memory)')} [{self.card.get('origin', '?')}]: "
            f"{self.n_parameters / 1e6:.2f}M params, ViT {vc.num_hidden_layers}x"
            f"{vc.hidden_size} patch {vc.patch_size} @ {vc.image_size}px"
        )
        training = self.card.get("training")
        if training:
            text += (
                f"; trained on {training['n_pairs']} image-text pairs, {training['epochs']} "
                f"epochs, final loss {training['final_loss']:.3f}"
            )
        return text


def small_clip_config(
    *,
    vocab_size: int,
    image_size: int = 64,
    patch_size: int = 8,
    hidden_size: int = 96,
    num_layers: int = 3,
    num_heads: int = 4,
    projection_dim: int = 64,
    max_text_length: int = 32,
    bos_token_id: int = 2,
    eos_token_id: int = 3,
    pad_token_id: int = 0,
) -> Any:
    """A small ``CLIPConfig`` that trains on CPU in about a minute on a few hundred images."""
    from transformers import CLIPConfig

    common = {
        "hidden_size": hidden_size,
        "intermediate_size": 4 * hidden_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
    }
    return CLIPConfig(
        text_config={
            **common,
            "vocab_size": vocab_size,
            "max_position_embeddings": max_text_length,
            "bos_token_id": bos_token_id,
            "eos_token_id": eos_token_id,
            "pad_token_id": pad_token_id,
        },
        vision_config={**common, "image_size": image_size, "patch_size": patch_size},
        projection_dim=projection_dim,
    )


def image_processor(image_size: int) -> Any:
    """A PIL-backed CLIP image processor: resize the short side, centre-crop a square."""
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )


def new_clip(texts: Iterable[str], *, seed: int = 0, max_text_length: int = 32, **config: Any):
    """An untrained small CLIP whose tokenizer knows the words of ``texts``.

    ``config`` goes to :func:`small_clip_config` (image_size, patch_size, hidden_size, …).
    """
    import torch
    from transformers import CLIPModel, CLIPProcessor

    from vision.text_tokenizer import build_word_tokenizer

    tokenizer = build_word_tokenizer(texts, max_length=max_text_length)
    ids = tokenizer.convert_tokens_to_ids([tokenizer.pad_token, tokenizer.bos_token,
                                           tokenizer.eos_token])
    cfg = small_clip_config(
        vocab_size=len(tokenizer),
        max_text_length=max_text_length,
        pad_token_id=ids[0],
        bos_token_id=ids[1],
        eos_token_id=ids[2],
        **config,
    )
    torch.manual_seed(seed)
    model = CLIPModel(cfg).eval()
    processor = CLIPProcessor(image_processor=image_processor(cfg.vision_config.image_size),
                              tokenizer=tokenizer)
    return ClipBundle(model=model, processor=processor,
                      card={"source": "(new)", "origin": "scratch"})


def load_clip(name_or_path: str | os.PathLike[str]) -> ClipBundle:
    """Load a CLIP by hub name or from a folder (a crashed save's ``NAME.old`` is used too).

    Set ``HF_HUB_OFFLINE=1`` where no hub is reachable: a hub name then fails at once.
    """
    from transformers import CLIPModel, CLIPProcessor

    location = str(name_or_path)
    card: dict[str, Any] = {"source": location, "origin": "pretrained"}
    path = Path(location)
    if path.exists() or path.with_name(path.name + ".old").is_dir():
        path = resolve_artifact_dir(path)
        location = str(path)
        card_path = path / CARD_FILE
        if card_path.is_file():
            card = {**json.loads(card_path.read_text(encoding="utf-8")), "source": location}
    model = CLIPModel.from_pretrained(location).eval()
    processor = CLIPProcessor.from_pretrained(location)
    return ClipBundle(model=model, processor=processor, card=card)


def save_clip(bundle: ClipBundle, folder: str | os.PathLike[str]) -> Path:
    """Write the bundle into ``folder`` atomically (safetensors + processor + card)."""
    with atomic_dir(folder) as tmp:
        bundle.model.save_pretrained(tmp, safe_serialization=True)
        bundle.processor.save_pretrained(tmp)
        card = {k: v for k, v in bundle.card.items() if k != "source"}
        (tmp / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
    bundle.card["source"] = str(folder)
    return Path(folder)
