"""A simulator grounded in profiles built from records: affinity follows what users bought."""

from __future__ import annotations

import numpy as np

from ads import AdSimulator, LinUCB, RandomPolicy, SimConfig, run_policy
from ads.world import world_from_profile_table
from kg.records import Dataset, Event, Product, User
from recommend.profiles import build_profiles, inputs_from_dataset, segment_users


def two_taste_dataset() -> Dataset:
    """Half the users buy shoes, half buy kitchenware; 40 products of each."""
    products = [
        Product(f"{kind}{j}", f"{kind} {j}", brand=brand, categories=cats, price=20.0 + j)
        for kind, brand, cats in (
            ("shoe", "Stride", ("Sports", "Running")),
            ("pan", "Cookwell", ("Home", "Kitchen")),
        )
        for j in range(40)
    ]
    rng = np.random.default_rng(0)
    events = [
        Event(
            str(u),
            f"{'shoe' if u % 2 else 'pan'}{rng.integers(40)}",
            "product",
            "purchase",
            ts=1e9 + t,
        )
        for u in range(60)
        for t in range(8)
    ]
    return Dataset(products, [User(str(u)) for u in range(60)], [], [], events)


def test_world_from_profiles_rewards_showing_users_their_own_tastes() -> None:
    dataset = two_taste_dataset()
    inputs = inputs_from_dataset(dataset)
    table = build_profiles(inputs)
    segment_users(table, k=2, use_embeddings=False)
    world = world_from_profile_table(table, inputs, n_ads=30, dim=4, seed=0)
    assert world.n_ads == 30 and world.n_segments == 2
    assert all(a.startswith("product:") for a in world.ad_ids)
    affinity = world.user_vecs @ world.ad_vecs.T
    runner = np.array([table.row(str(u)) for u in range(1, 60, 2)])
    shoe_ads = np.array([a.startswith("product:shoe") for a in world.ad_ids])
    assert affinity[runner][:, shoe_ads].mean() > affinity[runner][:, ~shoe_ads].mean() + 0.5

    config = SimConfig(n_candidates=10, seed=3)
    n_features = AdSimulator(world, config).n_features
    ctr_random = run_policy(AdSimulator(world, config), RandomPolicy(n_arms=30), 4000).ctr
    lin = LinUCB(n_arms=30, n_features=n_features, seed=0)
    assert run_policy(AdSimulator(world, config), lin, 4000).ctr > 1.3 * ctr_random
