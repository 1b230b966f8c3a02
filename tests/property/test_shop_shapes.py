"""The shapes users met (issue 14): a shop's plain orders export and a demo world without
categories build with the default stages and serve every user and product."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kg.demo import DemoConfig, generate_demo_world
from kg.loaders.table import load_tables
from kg.loaders.table_mapping import build_mapping
from kg.reader import read_dataset
from tests.property.serving import build_and_serve

DATA = Path(__file__).resolve().parents[1] / "data"


def test_a_plain_orders_export_builds_and_serves(tmp_path) -> None:
    """Products with id, title, price; users; timed purchases; no categories or text."""
    result = load_tables(build_mapping([], DATA / "shop_orders_mapping.toml"),
                         DATA / "shop_orders.csv")
    manifest = build_and_serve(result.dataset, tmp_path)
    assert manifest["stages"]["profiles"]["segments"] >= 1
    assert manifest["nodes"].get("category", 0) == 0


@pytest.mark.parametrize(("strip", "profiles"), [
    ("categories", True), ("categories", False), ("categories, brands, posts and texts", True)])
def test_demo_world_without_categories_builds_and_serves(tmp_path, strip, profiles) -> None:
    generate_demo_world(tmp_path / "demo", DemoConfig(n_users=24, n_products=30, n_posts=40,
                                                      images=False), progress=False)
    ds = read_dataset(tmp_path / "demo", progress=False).dataset
    ds.products = [dataclasses.replace(p, categories=()) for p in ds.products]
    if strip != "categories":
        ds.products = [dataclasses.replace(p, brand=None, description=None, attributes={})
                       for p in ds.products]
        ds.posts = []
        ds.events = [dataclasses.replace(e, text=None) for e in ds.events
                     if e.target_type == "product"]
    manifest = build_and_serve(ds, tmp_path / "built", profiles=profiles)
    assert "category" not in manifest["nodes"] or manifest["nodes"]["category"] == 0
    assert manifest["stages"]["models"]["components"]
