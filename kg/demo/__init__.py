"""A seeded, realistic small social-commerce world: catalogue, people, posts, behaviour, images.

>>> from kg.demo import DemoConfig, generate_demo_world
>>> # generate_demo_world("demo-out", DemoConfig(seed=7))
"""

from kg.demo.world import DemoConfig, DemoSummary, generate_demo_world

__all__ = ["DemoConfig", "DemoSummary", "generate_demo_world"]
