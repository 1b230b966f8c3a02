"""bench/shapes.py: each derived shape is what its name says."""

from __future__ import annotations

import random

from bench.shapes import chosen, engagement_only, post_events_only, sparse, verdict, without_times


def _rows() -> dict[str, list[dict]]:
    kinds = ("view", "click", "like", "cart", "purchase", "rate")
    events = [{"user": f"u{u}", "target": f"product:p{p}", "kind": kinds[(u + p) % 6],
               "ts": 1.7e9 + u * 100 + p} for u in range(10) for p in range(6)]
    events += [{"user": "u0", "target": "post:s1", "kind": "like", "ts": 1.7e9}]
    posts = [{"id": "s1", "author": "u1", "text": "the p1", "ts": 1.7e9}]
    return {"products": [{"id": f"p{p}", "title": f"Thing {p}"} for p in range(6)],
            "users": [{"id": f"u{u}"} for u in range(10)], "posts": posts, "events": events}


def test_engagement_only_has_no_purchase_cart_or_rate() -> None:
    kinds = {e["kind"] for e in engagement_only(_rows())["events"]}
    assert kinds == {"view", "click", "like"}


def test_post_events_only_keeps_the_events_on_posts() -> None:
    assert post_events_only(_rows())["events"] == [_rows()["events"][-1]]


def test_sparse_leaves_most_users_one_to_three_products() -> None:
    out = sparse(_rows(), random.Random(0))
    per_user: dict[str, set[str]] = {}
    for e in out["events"]:
        if e["target"].startswith("product:"):
            per_user.setdefault(e["user"], set()).add(e["target"])
    assert sum(len(ps) <= 3 for ps in per_user.values()) >= 6
    assert any(e["target"] == "post:s1" for e in out["events"])


def test_times_removed_or_made_equal_everywhere() -> None:
    gone = without_times(_rows(), None)
    assert not any("ts" in r for items in gone.values() for r in items)
    same = without_times(_rows(), 1.7e9)
    assert {r["ts"] for name in ("posts", "events") for r in same[name]} == {1.7e9}


def test_verdict_flags_a_hybrid_below_a_part_or_peer_and_few_explained() -> None:
    ev = {"rows": {"hybrid": {"NDCG@10": 0.2}, "cf alone": {"NDCG@10": 0.3}},
          "peers": {"EASE": {"NDCG@10": 0.1}}, "explained": 0.9}
    flags = verdict(ev)["flags"]
    assert flags == ["below best part cf alone", "explained 0.900"]
    assert verdict({"rows": {}})["flags"] == ["nothing held out"]
    ev["vs_best_part"] = {"name": "cf alone", "diff": -0.1, "se": 0.04, "lo": -0.18, "hi": -0.02}
    ev["vs_best_peer"] = {"name": "EASE", "diff": 0.1, "se": 0.04, "lo": 0.02, "hi": 0.18}
    assert verdict(ev)["flags"] == ["below best part cf alone",
                                    "below best part cf alone beyond noise", "explained 0.900"]
    ev["vs_best_part"] = {**ev["vs_best_part"], "hi": 0.01}  # within noise
    assert "below best part cf alone beyond noise" not in verdict(ev)["flags"]


def test_chosen_sums_up_what_the_build_chose() -> None:
    info = {"cf_tuning": {"chosen": "ease,lam=200", "seconds": 1.5, "cpu_seconds": 1.2,
                          "by_blend": {"contenders": {"ease,lam=200": {},
                                                      "als,reg=1,alpha=1": {}}}},
            "selection": {"chosen": "cf", "fitter": "logistic", "judged": "selection fold",
                          "users": 40, "candidate_recall": 0.912345},
            "candidates": {"per_component": 60}}
    out = chosen(info)
    assert out["cf"] == "ease,lam=200" and out["served"] == "cf" and out["fitter"] == "logistic"
    assert out["cf_by_blend"] == ["als,reg=1,alpha=1", "ease,lam=200"]
    assert out["candidate_recall"] == 0.9123 and out["per_component"] == 60
    assert out["selection_users"] == 40 and out["tune_cpu_seconds"] == 1.2
    assert chosen({})["cf"] is None and chosen({})["candidate_recall"] is None
