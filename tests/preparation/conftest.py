"""Helpers for writing small corpora."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable
from pathlib import Path

# Twelve themes of eight words; documents draw mostly from one theme, so every word is common
# enough to pass a min_df of 2 and no word reaches a max_df of 0.5.
THEME_WORDS = [
    [
        f"{stem}{suffix}"
        for suffix in ("alpha", "beta", "gamma", "delta", "omega", "sigma", "tau", "rho")
    ]
    for stem in (
        "astro",
        "bio",
        "chemo",
        "demo",
        "eco",
        "geo",
        "hydro",
        "litho",
        "neuro",
        "photo",
        "psycho",
        "techno",
    )
]


def write_file(path: Path, content: str | bytes) -> Path:
    """Write content, gzip-compressed when the name ends in .gz."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def jsonl(records: Iterable[object]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def synthetic_texts(count: int, seed: int = 1, length: tuple[int, int] = (20, 40)) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        theme = THEME_WORDS[rng.randrange(len(THEME_WORDS))]
        other = THEME_WORDS[rng.randrange(len(THEME_WORDS))]
        words = [
            rng.choice(theme if rng.random() < 0.8 else other) for _ in range(rng.randint(*length))
        ]
        texts.append("The " + " ".join(words) + ", and 42 more.")
    return texts


def write_synthetic_jsonl(path: Path, count: int, seed: int = 1) -> Path:
    return write_file(path, jsonl({"text": text} for text in synthetic_texts(count, seed)))
