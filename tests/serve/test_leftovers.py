"""A serving process killed (-9) while writing an embedding shard leaves its temporary file in
``STATE/.embeddings``: the next start removes it (they piled up before), once it holds the
state folder, and leaves what is not ours or is newer than its lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from recommend.serve.embedded import EMBED_DIR
from recommend.serve.served import hold_folder

KILLED_MID_WRITE = """
import os, sys, uuid
import numpy as np
import kg.atomic
from nlp.embed import EmbeddingCache
kg.atomic.os.chmod = lambda *a: os.kill(os.getpid(), 9)  # after the bytes, before the rename
EmbeddingCache(sys.argv[1])._write(f"shard-{uuid.uuid4().hex}.npz", ["k"],
                                   np.zeros((1, 4), np.float32))
"""


def test_a_start_removes_the_shard_temporaries_an_earlier_run_left(tmp_path: Path) -> None:
    state = tmp_path / "state"
    cache = state / EMBED_DIR / "model-x"
    cache.mkdir(parents=True)
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(cache)],
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                            check=False)
    assert killed.returncode == -9
    left = [p.name for p in cache.iterdir()]
    assert len(left) == 1 and left[0].startswith(".shard-") and left[0].endswith(".tmp")
    foreign = cache / ".notes.txt.abcdefgh.tmp"
    foreign.write_text("not ours")
    newer = cache / ".shard-0123456789abcdef0123456789abcdef.npz.abcdefgh.tmp"
    newer.write_bytes(b"being written")
    os.utime(newer, (time.time() + 3600, time.time() + 3600))  # changed after the lock
    fd = hold_folder(state)
    try:
        assert sorted(p.name for p in cache.iterdir()) == sorted([foreign.name, newer.name])
    finally:
        os.close(fd)
