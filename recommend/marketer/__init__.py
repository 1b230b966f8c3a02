"""For the brand's marketer: who should see a product, who is like its customers, and which
influencers should promote it (docs/marketer.md).

- :mod:`recommend.marketer.columns`: one product's column of every component's score;
- :mod:`recommend.marketer.audience`: the audience, its paths under the marketer's privacy;
- :mod:`recommend.marketer.summary`: a group of users in words (crowd traits only);
- :mod:`recommend.marketer.lookalike`: seed files and lookalikes;
- :mod:`recommend.marketer.cascade`: independent cascade, CELF, degree discount;
- :mod:`recommend.marketer.influencers`: engagement probabilities and the explained choice;
- :mod:`recommend.marketer.api`: the methods :class:`recommend.Recommender` gains.
"""
