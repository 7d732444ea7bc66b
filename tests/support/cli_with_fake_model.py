"""Run the CLI with the fake embedder (for subprocess tests such as kill -9 mid-run).

FAKE_EMBED_DELAY_S: each batch takes this long to embed. FAKE_EMBED_MARKER: a file that gets
one line each time a batch starts embedding, so a test can tell how far a run has got."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import photofinder.core.library as library_module
from photofinder.cli import main
from tests.support.fake_embedder import FakeEmbedder, load_fake_embedder

DELAY_S = float(os.environ.get("FAKE_EMBED_DELAY_S", "0"))
MARKER = os.environ.get("FAKE_EMBED_MARKER", "")


class SlowFake(FakeEmbedder):
    def embed_prepared(self, batch):  # type: ignore[no-untyped-def]
        if MARKER:
            with open(MARKER, "a") as marker:
                marker.write(f"{len(batch)}\n")
        time.sleep(DELAY_S)
        return super().embed_prepared(batch)


def load(name: str, device: str, cache_dir: Path, folder: Path | None = None) -> FakeEmbedder:
    fake = load_fake_embedder(name, device, cache_dir)
    return SlowFake(fake.info, device)


library_module.load_embedder = load  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
