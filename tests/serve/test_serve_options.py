"""The serve options a reader is told, and the periodic snapshots every server takes."""

from __future__ import annotations

import json
import threading
from dataclasses import fields
from pathlib import Path

from recommend.serve.app import ServeConfig
from recommend.serve.security import Access
from recommend.serve.served import PeriodicSnapshots
from recommend.serve.workers import READER_THREADS, reader_config, reader_options


def test_a_reader_serves_the_writers_options_without_the_key_on_its_command_line() -> None:
    config = ServeConfig(access=Access("secret-key", keyed_reads=True),
                         cors_origins=("https://shop.example",), max_body_bytes=4096,
                         max_image_bytes=1 << 16, snapshot_every=60.0,
                         images_dir=Path("/data/images"), storefront=False, threads=3,
                         cache_seconds=5.0, cache_entries=7)
    told = json.dumps(reader_options(config))
    assert "secret-key" not in told
    back = reader_config(json.loads(told), "secret-key")
    assert back == ServeConfig(access=config.access, cors_origins=config.cors_origins,
                               max_body_bytes=4096, max_image_bytes=1 << 16, snapshot_every=0,
                               images_dir=Path("/data/images"), storefront=False,
                               threads=READER_THREADS, cache_seconds=5.0, cache_entries=7)
    assert {f.name for f in fields(ServeConfig)} - {"access", "snapshot_every", "threads"} \
        <= set(json.loads(told))  # a new option reaches the readers


def test_a_reader_without_images_or_key() -> None:
    back = reader_config(json.loads(json.dumps(reader_options(ServeConfig()))), None)
    assert back.images_dir is None and back.access == Access()


class _Counting:
    def __init__(self, fail_first: bool) -> None:
        self.calls, self.fail_first = 0, fail_first
        self.twice = threading.Event()

    def snapshot(self) -> bool:
        self.calls += 1
        if self.calls >= 2:
            self.twice.set()
        if self.fail_first and self.calls == 1:
            raise OSError("disk full")
        return True


def test_periodic_snapshots_go_on_after_a_failure_and_stop() -> None:
    state = _Counting(fail_first=True)
    snapshots = PeriodicSnapshots(state, 0.01)  # type: ignore[arg-type]
    assert state.twice.wait(5.0)  # the failed first one did not stop the second
    snapshots.stop()
    calls = state.calls
    threading.Event().wait(0.05)
    assert state.calls == calls


def test_no_periodic_snapshots_when_every_is_zero() -> None:
    state = _Counting(fail_first=False)
    snapshots = PeriodicSnapshots(state, 0)  # type: ignore[arg-type]
    threading.Event().wait(0.05)
    snapshots.stop()
    assert state.calls == 0
