"""Below how many products the content index searches exactly: one constant, no imports.

:class:`recommend.hybrid.config.HybridConfig` takes it as its default and
:mod:`recommend.content.index` (which argues the value) as its own, so reading the config
does not import the index module and its numeric libraries.
"""

EXACT_THRESHOLD = 50_000
