"""Images: safe loading, CLIP tagging, CLIP training and image embeddings.

Modules (each imports torch/transformers only inside its functions):

- :mod:`vision.images`: open an image safely or reject it with a reason (``ImageRejection``).
- :mod:`vision.clip_model`: ``ClipBundle``; load a CLIP by hub name or folder, build a small one,
  save atomically with a provenance card (``describe()`` says which CLIP a build used).
- :mod:`vision.text_tokenizer`: the word-level tokenizer of a from-scratch CLIP.
- :mod:`vision.training`: ``ClipTrainer``, contrastive training on image–text pairs.
- :mod:`vision.embed`: L2-normalised float32 image/text embeddings, ``ImageEmbeddings`` (.npz).
- :mod:`vision.tagging`: ``ClipTagger``, zero-shot ``ImageTag`` with a calibrated threshold.
- :mod:`vision.catalogue`: the build's entry points, ``train_catalogue_clip`` and
  ``tag_catalogue`` (``depicts`` tags, embeddings, rejections, held-out accuracy).
"""
