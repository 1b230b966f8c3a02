"""A CLIP model and its processor as one :class:`ClipBundle`: load, build small, save.

- :func:`load_clip` takes a hub name (``openai/clip-vit-base-patch32``, where a hub is
  reachable) or a folder written by ``save_pretrained``/:func:`save_clip`.
- :func:`new_clip` builds an untrained CLIP from :func:`small_clip_config` with a word-level
  tokenizer made from the catalogue's text (see :mod:`vision.text_tokenizer`); train it with
  :mod:`vision.training`. Its ViT has a convolutional stem by default (``conv_stem``): stacked
  3x3 stride-2 convolutions next to the linear map per patch. Trained from scratch on a couple
  of hundred photos, that local bias helps categories (fashion, a validation split of the
  bench's train part, mean of 3 seeds, with the trainer's defaults: category accuracy 0.35 with
  it, 0.26 without).
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
SMALL_IMAGE_SIZE = 64  # the image side of a from-scratch CLIP (small_clip_config)


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
        stem = " (conv stem)" if getattr(vc, "conv_stem", False) else ""
        text = (
            f"CLIP {self.card.get('source', '(in memory)')} [{self.card.get('origin', '?')}]: "
            f"{self.n_parameters / 1e6:.2f}M params, ViT {vc.num_hidden_layers}x"
            f"{vc.hidden_size} patch {vc.patch_size}{stem} @ {vc.image_size}px"
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
    image_size: int = SMALL_IMAGE_SIZE,
    patch_size: int = 8,
    hidden_size: int = 96,
    num_layers: int = 3,
    num_heads: int = 4,
    projection_dim: int = 64,
    conv_stem: bool = True,
    max_text_length: int = 32,
    bos_token_id: int = 2,
    eos_token_id: int = 3,
    pad_token_id: int = 0,
) -> Any:
    """A small ``CLIPConfig`` that trains on CPU in about a minute on a few hundred images.

    ``conv_stem``: embed patches with :func:`conv_stem` (``patch_size`` a power of two).
    """
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
        vision_config={**common, "image_size": image_size, "patch_size": patch_size,
                       "conv_stem": conv_stem},
        projection_dim=projection_dim,
    )


def conv_stem(hidden_size: int, patch_size: int) -> Any:
    """A patch embedding: the ViT's linear patch map plus a convolutional path of
    log2(``patch_size``) 3x3 stride-2 convolutions (GELU between) widening to ``hidden_size``
    and a 1x1 projection. Same output grid as the plain patch ``Conv2d``; the linear path keeps
    flat colour as easy to see as in a plain ViT, the conv path adds local shape. ``weight`` is
    the linear path's, because the ViT embedding reads its dtype."""
    import torch

    steps = patch_size.bit_length() - 1
    if patch_size < 2 or 1 << steps != patch_size:
        raise ValueError(f"conv stem needs a power-of-two patch size, got {patch_size}")

    class ConvStem(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.patch = torch.nn.Conv2d(3, hidden_size, patch_size, stride=patch_size)
            layers: list[Any] = []
            channels = 3
            for k in range(steps):
                width = max(16, hidden_size >> (steps - 1 - k))
                layers += [torch.nn.Conv2d(channels, width, 3, stride=2, padding=1),
                           torch.nn.GELU()]
                channels = width
            layers.append(torch.nn.Conv2d(channels, hidden_size, 1))
            self.convs = torch.nn.Sequential(*layers)

        @property
        def weight(self) -> Any:
            return self.patch.weight

        def forward(self, pixels: Any) -> Any:
            return self.patch(pixels) + self.convs(pixels)

    return ConvStem()


def _build_model(config: Any) -> Any:
    """A ``CLIPModel`` of ``config``, with the conv stem when the config asks for it."""
    from transformers import CLIPModel

    model = CLIPModel(config)
    vc = config.vision_config
    if getattr(vc, "conv_stem", False):
        model.vision_model.embeddings.patch_embedding = conv_stem(vc.hidden_size, vc.patch_size)
    return model


def image_processor(image_size: int) -> Any:
    """A PIL-backed CLIP image processor: resize the short side, centre-crop a square."""
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )


def processor_side(processor: Any) -> int | None:
    """The short side an image processor resizes to (``shortest_edge``, else the smaller of
    ``height``/``width``), None if it names neither: what loading may reduce images to."""
    size = processor.size
    get = size.get if hasattr(size, "get") else lambda key: getattr(size, key, None)
    side = get("shortest_edge") or min(get("height") or 0, get("width") or 0)
    return int(side) or None


def new_clip(texts: Iterable[str], *, seed: int = 0, max_text_length: int = 32, **config: Any):
    """An untrained small CLIP whose tokenizer knows the words of ``texts``.

    ``config`` goes to :func:`small_clip_config` (image_size, patch_size, hidden_size, …).
    """
    import torch
    from transformers import CLIPProcessor

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
    model = _build_model(cfg).eval()
    processor = CLIPProcessor(image_processor=image_processor(cfg.vision_config.image_size),
                              tokenizer=tokenizer)
    return ClipBundle(model=model, processor=processor,
                      card={"source": "(new)", "origin": "scratch"})


def load_clip(name_or_path: str | os.PathLike[str]) -> ClipBundle:
    """Load a CLIP by hub name or from a folder (a crashed save's ``NAME.old`` is used too).

    Set ``HF_HUB_OFFLINE=1`` where no hub is reachable: a hub name then fails at once.
    A folder whose config asks for a conv stem (:func:`conv_stem`) is rebuilt with it and its
    safetensors weights are loaded strictly.
    """
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    location = str(name_or_path)
    card: dict[str, Any] = {"source": location, "origin": "pretrained"}
    path = Path(location)
    looks_local = path.is_absolute() or location.startswith(".") or location.count("/") > 1
    if looks_local and not (path.exists() or path.with_name(path.name + ".old").is_dir()):
        # not a hub name either ("namespace/name"): transformers would say "Repo id must be..."
        raise FileNotFoundError(f"{location}: no CLIP folder there")
    if path.exists() or path.with_name(path.name + ".old").is_dir():
        path = resolve_artifact_dir(path)
        location = str(path)
        card_path = path / CARD_FILE
        if card_path.is_file():
            card = {**json.loads(card_path.read_text(encoding="utf-8")), "source": location}
    config = CLIPConfig.from_pretrained(location)
    if getattr(config.vision_config, "conv_stem", False):
        from safetensors.torch import load_file

        model = _build_model(config)
        model.load_state_dict(load_file(Path(location) / "model.safetensors"))
        model.eval()
    else:
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
