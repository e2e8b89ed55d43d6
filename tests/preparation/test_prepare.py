"""prepare(): the whole dataset, its summary, reproducibility, failure and memory."""

from __future__ import annotations

import json
import logging
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from preparation.config import PreparationConfig
from preparation.prepare import NoUsableDocuments, prepare
from preparation.recordio import SparseRow, read_sparse
from preparation.splits import SplitAssigner
from preparation.tokens import Tokenizer

from .conftest import jsonl, synthetic_texts, write_file, write_synthetic_jsonl


def records(path: Path) -> list[SparseRow]:
    with path.open("rb") as stream:
        return list(read_sparse(stream))


def mixed_corpus(root: Path) -> list[str]:
    """A corpus in every format; returns its texts in reading order."""
    texts = synthetic_texts(400, seed=3)
    write_file(
        root / "a.jsonl", jsonl({"text": text, "id": f"j{i}"} for i, text in enumerate(texts[:200]))
    )
    rows = "".join(f'"{text}"\n' for text in texts[200:300])
    write_file(root / "b/c.csv.gz", "text\n" + rows)
    for i, text in enumerate(texts[300:]):
        write_file(root / f"b/docs/{i:03d}.txt", text)
    write_file(root / "b/docs/short.txt", "too short")
    write_file(root / "b/skip.pdf", b"%PDF")
    return texts


def test_output_files_vocabulary_and_records(tmp_path: Path) -> None:
    mixed_corpus(tmp_path / "in")
    config = PreparationConfig(train_shards=3)
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    out = tmp_path / "out"

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "auxiliary/vocab.txt",
        "dataset.json",
        "test/part-00000.pbr",
        "train/part-00000.pbr",
        "train/part-00001.pbr",
        "train/part-00002.pbr",
        "validation/part-00000.pbr",
    ]
    vocabulary_text = (out / "auxiliary/vocab.txt").read_text(encoding="utf-8")
    assert vocabulary_text.endswith("\n")
    vocabulary = vocabulary_text.splitlines()
    assert len(vocabulary) == summary.vocabulary_size == len(set(vocabulary)) == 96
    assert "the" not in vocabulary and "and" not in vocabulary and "more" not in vocabulary

    by_split: dict[str, list[SparseRow]] = {split: [] for split in ("train", "validation", "test")}
    for shard in files:
        if shard.endswith(".pbr"):
            by_split[shard.split("/")[0]].extend(records(out / shard))
    train_shards = [len(records(out / f"train/part-0000{i}.pbr")) for i in range(3)]
    assert max(train_shards) - min(train_shards) <= 1  # round-robin
    every = [row for rows in by_split.values() for row in rows]
    assert all(row.dimension == len(vocabulary) for row in every)
    assert all(list(row.keys) == sorted(set(row.keys)) for row in every)
    assert all(value >= 1 and value == int(value) for row in every for value in row.values)
    assert {split: len(rows) for split, rows in by_split.items()} == {
        split: summary.documents[split] for split in by_split
    }
    assert sum(summary.documents.values()) == 400

    written = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    assert written == summary.to_dict()
    assert written["format_version"] == 1
    assert written["config"] == config.to_dict()
    assert written["documents"]["total"] == 400
    assert written["files_read"] == 103
    assert written["documents_scanned"] == 401
    assert {k: v for k, v in written["dropped"].items() if v} == {
        "too_few_tokens": 1,
        "unsupported_file": 1,
    }
    assert written["dropped_examples"]["too_few_tokens"] == ["b/docs/short.txt"]
    assert written["total_tokens"] == sum(v for row in every for v in row.values)
    assert written["nonzeros"] == sum(len(row.keys) for row in every)
    assert written["sparsity"] == pytest.approx(1 - written["nonzeros"] / (400 * 96))
    assert written["shards"]["train"] == [f"train/part-0000{i}.pbr" for i in range(3)]
    assert written["empty_splits"] == []
    assert written["error"] is None


def test_records_hold_the_token_counts_in_vocabulary_order(tmp_path: Path) -> None:
    texts = mixed_corpus(tmp_path / "in")
    config = PreparationConfig(train_shards=1, validation_ratio=0.0, test_ratio=0.0)
    prepare(tmp_path / "in", tmp_path / "out", config)
    vocabulary = (tmp_path / "out/auxiliary/vocab.txt").read_text().splitlines()
    rows = records(tmp_path / "out/train/part-00000.pbr")
    # Reading order: a.jsonl, then b/c.csv.gz, then b/docs/*.txt (short.txt is dropped).
    tokenizer = Tokenizer()
    for row, text in zip(rows, texts, strict=True):
        counts = Counter(tokenizer.tokens(text))
        assert {vocabulary[k]: v for k, v in zip(row.keys, row.values, strict=True)} == counts


def test_non_latin_scripts(tmp_path: Path) -> None:
    russian = "Кошка спит на диване. Собака спит во дворе, кошка играет."
    hindi = "बिल्ली सोफ़े पर सोती है और कुत्ता आँगन में सोता है"
    write_file(
        tmp_path / "in/a.jsonl",
        jsonl([{"text": russian}, {"text": russian}, {"text": hindi}, {"text": hindi}]),
    )
    config = PreparationConfig(min_df=2, max_df=1.0, stop_words=[], min_document_tokens=1)
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    vocabulary = (tmp_path / "out/auxiliary/vocab.txt").read_text(encoding="utf-8").splitlines()
    assert {"кошка", "спит", "बिल्ली", "सोफ़े", "आँगन"} <= set(vocabulary)
    assert summary.total_documents == 4


def test_splits_follow_document_ids(tmp_path: Path) -> None:
    write_file(
        tmp_path / "in/a.jsonl",
        jsonl({"text": t, "id": f"doc-{i}"} for i, t in enumerate(synthetic_texts(300))),
    )
    config = PreparationConfig(train_shards=1, validation_ratio=0.2, test_ratio=0.2, split_salt="x")
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assign = SplitAssigner(0.2, 0.2, "x")
    expected = Counter(assign(f"doc-{i}") for i in range(300))
    assert {split: summary.documents[split] for split in expected} == dict(expected)


def test_same_input_same_bytes(tmp_path: Path) -> None:
    mixed_corpus(tmp_path / "in")
    config = PreparationConfig()
    prepare(tmp_path / "in", tmp_path / "one", config)
    prepare(tmp_path / "in", tmp_path / "two", config)
    one = {
        p.relative_to(tmp_path / "one"): p.read_bytes()
        for p in (tmp_path / "one").rglob("*")
        if p.is_file()
    }
    two = {
        p.relative_to(tmp_path / "two"): p.read_bytes()
        for p in (tmp_path / "two").rglob("*")
        if p.is_file()
    }
    assert one == two


def test_empty_splits_have_no_file(tmp_path: Path) -> None:
    write_synthetic_jsonl(tmp_path / "in/a.jsonl", 50)
    config = PreparationConfig(validation_ratio=0.0, test_ratio=0.0, train_shards=2)
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assert not (tmp_path / "out/validation").exists()
    assert not (tmp_path / "out/test").exists()
    assert summary.empty_splits == ["validation", "test"]
    assert summary.documents == {"train": 50, "validation": 0, "test": 0}


def test_fewer_documents_than_shards(tmp_path: Path) -> None:
    write_synthetic_jsonl(tmp_path / "in/a.jsonl", 3)
    config = PreparationConfig(
        min_df=1, max_df=1.0, validation_ratio=0.0, test_ratio=0.0, train_shards=8
    )
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assert summary.shards == {
        "train": ["train/part-00000.pbr", "train/part-00001.pbr", "train/part-00002.pbr"]
    }


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({}, "no readable document in the input folder"),
        (
            {"a.txt": "", "b.bin": "x", "c.jsonl": "oops\n"},
            "no readable document in the input folder",
        ),
        ({"a.txt": "alpha beta", "b.txt": "gamma delta"}, "no token meets min_df and max_df"),
        (
            {"a.txt": "alpha beta", "b.txt": "alpha beta", "c.txt": "gamma beta"},
            "every document has fewer than 5 in-vocabulary tokens",
        ),
    ],
)
def test_no_usable_documents(tmp_path: Path, files: dict[str, str], error: str) -> None:
    (tmp_path / "in").mkdir()
    for name, content in files.items():
        write_file(tmp_path / "in" / name, content)
    config = PreparationConfig(max_df=1.0)
    with pytest.raises(NoUsableDocuments) as raised:
        prepare(tmp_path / "in", tmp_path / "out", config)
    assert str(raised.value) == error
    summary = raised.value.summary
    assert summary.error == error
    assert summary.total_documents == 0
    assert summary.empty_splits == ["train", "validation", "test"]
    assert summary.vocabulary_file is None
    written = json.loads((tmp_path / "out/dataset.json").read_text())
    assert written == summary.to_dict()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["dataset.json"]


def test_folders_are_checked(tmp_path: Path) -> None:
    config = PreparationConfig()
    with pytest.raises(NotADirectoryError):
        prepare(tmp_path / "missing", tmp_path / "out", config)
    write_synthetic_jsonl(tmp_path / "in/a.jsonl", 10)
    with pytest.raises(
        ValueError, match=r"^the input and output folders must not contain each other$"
    ):
        prepare(tmp_path / "in", tmp_path / "in/out", config)
    write_file(tmp_path / "used/old.pbr", b"")
    with pytest.raises(FileExistsError):
        prepare(tmp_path / "in", tmp_path / "used", config)


def _peak_bytes(root: Path, documents: int) -> int:
    write_synthetic_jsonl(root / "in/a.jsonl", documents, seed=documents)
    config = PreparationConfig(train_shards=2)
    tracemalloc.start()
    try:
        prepare(root / "in", root / "out", config)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_corpus(tmp_path: Path) -> None:
    small = _peak_bytes(tmp_path / "small", 2_000)
    large = _peak_bytes(tmp_path / "large", 10_000)
    # Holding the documents would make the large run's peak about five times the small one's.
    assert large < 1.5 * small, (small, large)


def test_progress_is_logged_every_so_many_documents_in_both_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from preparation import prepare as module

    monkeypatch.setattr(module, "_PROGRESS_EVERY", 3)
    # Five words in every document, and one of its own: 5 + n distinct tokens after n documents.
    own = ["uniqa", "uniqb", "uniqc", "uniqd", "uniqe", "uniqf", "uniqg", "uniqh"]
    texts = [f"alpha beta gamma delta epsilon {word}" for word in own]
    write_file(tmp_path / "in/a.jsonl", jsonl({"text": text} for text in texts))
    caplog.set_level(logging.INFO, logger="preparation.prepare")
    config = PreparationConfig(max_df=1.0, validation_ratio=0.0, test_ratio=0.0)
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assert summary.documents == {"train": 8, "validation": 0, "test": 0}
    assert [record.getMessage() for record in caplog.records] == [
        f"pass 1: counting document frequencies under {tmp_path / 'in'}",
        # After documents 3 and 6 of 8 (counted from 1), not after 0 or 9.
        "pass 1: 3 documents, 8 distinct tokens",
        "pass 1: 6 documents, 11 distinct tokens",
        "vocabulary: 5 of 13 distinct tokens",
        f"pass 2: writing records to {tmp_path / 'out'}",
        "pass 2: 3 documents",
        "pass 2: 6 documents",
        "done: {'train': 8, 'validation': 0, 'test': 0} documents",
    ]


@pytest.mark.parametrize("where", ["existing-empty", "new/nested/folder"])
def test_the_output_folder_may_exist_empty_or_be_made_with_its_parents(
    tmp_path: Path, where: str
) -> None:
    write_synthetic_jsonl(tmp_path / "in/a.jsonl", 20)
    (tmp_path / "existing-empty").mkdir()
    summary = prepare(tmp_path / "in", tmp_path / where, PreparationConfig(max_df=1.0))
    assert summary.total_documents == 20
    assert (tmp_path / where / "dataset.json").is_file()
    assert (tmp_path / where / "auxiliary/vocab.txt").is_file()


def test_case_stop_words_and_minimum_length_reach_the_vocabulary(tmp_path: Path) -> None:
    texts = ["The Alpha ox gamma beta", "the alpha OX Gamma beta beta", "THE ALPHA ox delta"]
    write_file(tmp_path / "in/a.jsonl", jsonl({"text": text} for text in texts))
    config = PreparationConfig(
        stop_words=("gamma",),
        min_token_length=3,
        min_df=2,
        max_df=1.0,
        min_document_tokens=1,
        validation_ratio=0.0,
        test_ratio=0.0,
        train_shards=1,
    )
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    # Lower-cased ("The", "the" and "THE" are one word); "the" is no stop word in this list;
    # "ox" is shorter than 3 letters although it is in every document; "delta" is in only one.
    vocabulary = (tmp_path / "out/auxiliary/vocab.txt").read_text(encoding="utf-8")
    assert vocabulary == "alpha\nthe\nbeta\n"
    rows = records(tmp_path / "out/train/part-00000.pbr")
    assert [dict(zip(row.keys, row.values, strict=True)) for row in rows] == [
        {0: 1.0, 1: 1.0, 2: 1.0},
        {0: 1.0, 1: 1.0, 2: 2.0},
        {0: 1.0, 1: 1.0},
    ]
    assert summary.vocabulary_size == 3


def test_a_document_with_exactly_min_document_tokens_is_kept(tmp_path: Path) -> None:
    texts = {"three": "alpha beta gamma", "two": "alpha beta", "four": "alpha beta gamma alpha"}
    write_file(tmp_path / "in/a.jsonl", jsonl({"id": key, "text": t} for key, t in texts.items()))
    config = PreparationConfig(
        stop_words=(),
        min_df=1,
        max_df=1.0,
        min_document_tokens=3,
        validation_ratio=0.0,
        test_ratio=0.0,
        train_shards=1,
    )
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assert summary.documents["train"] == 2
    assert summary.dropped["too_few_tokens"] == 1
    assert summary.dropped_examples["too_few_tokens"] == ["two"]
    rows = records(tmp_path / "out/train/part-00000.pbr")
    assert [sum(row.values) for row in rows] == [3.0, 4.0]


def test_dataset_json_is_indented_utf8_text_and_names_the_vocabulary_file(tmp_path: Path) -> None:
    write_synthetic_jsonl(tmp_path / "in/a.jsonl", 20)
    config = PreparationConfig(max_df=1.0, split_salt="sel é\u4e2d")
    summary = prepare(tmp_path / "in", tmp_path / "out", config)
    assert summary.vocabulary_file == "auxiliary/vocab.txt"
    data = (tmp_path / "out/dataset.json").read_bytes()
    text = data.decode("utf-8")
    assert text == summary.to_json()
    assert json.loads(text)["vocabulary_file"] == "auxiliary/vocab.txt"
    assert '"split_salt": "sel é\u4e2d"' in text  # not \u00e9 escapes
    lines = text.split("\n")
    assert lines[:3] == ["{", '  "config": {', '    "text_field": "text",']
    assert lines[-2:] == ["}", ""]  # one trailing newline
    assert b"\r" not in data
