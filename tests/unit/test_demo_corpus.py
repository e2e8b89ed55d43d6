"""The demo's embedded corpus: real documents from this machine, no download."""

from __future__ import annotations

import json
from pathlib import Path

from ntm_tuning.request import TuningRequest

from offline.demo import DEMO_REQUEST, stdlib_docstrings


def test_stdlib_docstrings_are_thousands_of_documents(tmp_path: Path) -> None:
    count = stdlib_docstrings(tmp_path)
    lines = (tmp_path / "stdlib-docstrings.jsonl").read_text(encoding="utf-8").splitlines()
    assert count == len(lines) > 2000
    documents = [json.loads(line) for line in lines]
    assert len({d["id"] for d in documents}) == count
    assert all(len(d["text"]) >= 60 for d in documents)


def test_the_demo_request_is_a_corpus_request_with_a_small_budget() -> None:
    request = TuningRequest.model_validate(json.loads(DEMO_REQUEST.read_text()))
    assert request.corpus is not None and request.data is None
    assert request.resource_limits.max_jobs == 8
    assert request.resource_limits.max_parallel_jobs == 2


def test_every_reason_a_file_is_skipped_for_has_its_rule_and_fix() -> None:
    from offline.demo import DROPPED
    from preparation.config import PreparationConfig
    from preparation.corpus import REASONS

    assert set(DROPPED) == set(REASONS)
    config = PreparationConfig().to_dict()
    for reason, (rule, fix) in DROPPED.items():
        assert rule.format(**config) and fix, reason
