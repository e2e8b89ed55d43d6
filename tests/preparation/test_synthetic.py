"""The synthetic raw corpus that `make demo` and the corpus examples start from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preparation import synthetic
from preparation.config import PreparationConfig
from preparation.prepare import prepare


def test_the_corpus_is_a_jsonl_file_and_ten_notes_read_as_documents(tmp_path: Path) -> None:
    assert synthetic.write_corpus(tmp_path, documents=60) == 60
    folder = tmp_path / "corpora" / "demo"
    rows = [json.loads(line) for line in (folder / "news.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"news-{n:04d}" for n in range(50)]
    notes = sorted(path.name for path in (folder / "notes").iterdir())
    assert notes == [f"note-{n:02d}.txt" for n in range(10)]
    vocabulary = set(synthetic.vocabulary())
    for text in [row["text"] for row in rows] + [(folder / "notes" / n).read_text() for n in notes]:
        assert text.strip().endswith(".")
        assert text[0].isupper()
        assert set(text.strip().rstrip(".").lower().split()) <= vocabulary
    summary = prepare(folder, tmp_path / "out", PreparationConfig(min_df=1))
    assert summary.to_dict()["documents"]["total"] == 60


def test_the_corpus_is_the_same_for_a_seed_and_differs_across_seeds(tmp_path: Path) -> None:
    def written(root: Path, seed: int) -> tuple[str, str]:
        synthetic.write_corpus(root, seed=seed, documents=20)
        folder = root / "corpora" / "demo"
        return (folder / "news.jsonl").read_text(), (folder / "notes/note-09.txt").read_text()

    assert written(tmp_path / "a", 7) == written(tmp_path / "b", 7)
    first, second = written(tmp_path / "c", 8), written(tmp_path / "a", 7)
    assert first[0] != second[0] and first[1] != second[1]


ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_example_corpus_is_what_the_defaults_write(tmp_path: Path) -> None:
    assert synthetic.write_corpus(tmp_path) == 400
    committed = ROOT / "examples" / "corpus"
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (committed / relative).read_bytes(), relative
    lines = (tmp_path / "corpora/demo/news.jsonl").read_bytes().splitlines()
    assert len(lines) == 390 and all(line.isascii() for line in lines)


def test_the_dataset_can_be_written_again_over_itself(tmp_path: Path) -> None:
    first = synthetic.write_dataset(tmp_path, seed=5)
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert synthetic.write_dataset(tmp_path, seed=5) == first
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == files
    assert first == {"train": 300, "validation": 60, "test": 60, "vocabulary": 130}


def test_the_vocabulary_is_ascii_and_a_word_in_two_themes_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    words = synthetic.vocabulary()
    assert len(words) == 130 and all(word.isascii() for word in words)
    monkeypatch.setitem(synthetic.THEMES, "space", ("rocket", "star"))
    with pytest.raises(AssertionError, match=r"^a word is in two themes$"):
        synthetic.vocabulary()
