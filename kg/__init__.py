"""Records, validation, loaders and the knowledge graph. Imports nothing heavy."""

from kg.records import Dataset, Event, Follow, Post, Product, User

__all__ = ["Dataset", "Event", "Follow", "Post", "Product", "User"]
