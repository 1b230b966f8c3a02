"""Evaluation harness: the protocols of PROTOCOL.md (splits + fingerprints), metrics, runs.

- :mod:`recommend.evaluate.protocols`: read ML-100K ``u.data``, rating / ranking /
  leave-last-out splits, fingerprints;
- :mod:`recommend.evaluate.metrics`: RMSE, MAE, P/R/NDCG/HR/MAP@k, coverage, popularity;
- :mod:`recommend.evaluate.harness`: tasks from splits, timed runs of ours and peers.
"""
