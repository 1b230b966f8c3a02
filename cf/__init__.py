"""Collaborative filtering: one contract (:mod:`cf.base`) over :class:`cf.data.Interactions`.

Rating models (also ``predict``): :class:`cf.knn.UserKNN`, :class:`cf.knn.ItemKNN`,
:class:`cf.mf.MatrixFactorization` (SGD / ALS). Ranking models:
:class:`cf.implicit_mf.WeightedALS`, :class:`cf.implicit_mf.BPR`, :class:`cf.ease.EASE`
(optionally recency weighted), :class:`cf.popular.MostPopular`; torch models
:class:`cf.neural.NeuralCF`, :class:`cf.neural.AutoencoderRec`,
:class:`cf.sequential.SelfAttentiveRec`. Import them from their modules: the package
itself imports nothing heavy.
"""
