"""Collaborative filtering: one contract (:mod:`cf.base`) over :class:`cf.data.Interactions`.

Rating models (also ``predict``): :class:`cf.knn.UserKNN`, :class:`cf.knn.ItemKNN`,
:class:`cf.mf.MatrixFactorization` (SGD / ALS). Ranking models:
:class:`cf.implicit_mf.WeightedALS`, :class:`cf.implicit_mf.BPR`, :class:`cf.ease.EASE`
(optionally recency weighted, optionally pruned to top-K per item),
:class:`cf.item_knn.NeighbourItemKNN` (implicit's cosine / TF-IDF / BM25 item kNN),
:class:`cf.popular.MostPopular`; torch models :class:`cf.neural.NeuralCF`,
:class:`cf.neural.AutoencoderRec`, :class:`cf.sequential.SelfAttentiveRec`. EASE,
NeighbourItemKNN and WeightedALS also score a history never seen in fit
(:class:`cf.base.HistoryRecommender`). Import them from their modules: the package
itself imports nothing heavy.
"""
