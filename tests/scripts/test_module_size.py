"""The codebase's module-size rule: no Python module of the package or its benches is over
400 lines (one concept per module; issue 12)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ads", "bench", "cf", "kg", "nlp", "recommend", "scripts", "sparkbuild", "vision")
LIMIT = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for package in PACKAGES for path in (ROOT / package).rglob("*.py")}
    assert len(sizes) > 100, "the package's modules were not found"
    over = {name: n for name, n in sizes.items() if n > LIMIT}
    assert not over, f"modules over {LIMIT} lines: {over}"
