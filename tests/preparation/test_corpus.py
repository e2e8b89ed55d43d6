"""Reading corpora: txt, jsonl and csv, plain and gzip; every bad input counted, none fatal."""

from __future__ import annotations

import csv
import gzip
import tracemalloc
from pathlib import Path

import pytest

from preparation.corpus import EXAMPLES_PER_REASON, CorpusReader, Report, file_kind

from .conftest import jsonl, write_file


def read(root: Path, **options: object) -> tuple[list[tuple[str, str]], Report]:
    settings: dict[str, object] = {
        "text_field": "text",
        "text_column": "text",
        "max_document_bytes": 1_000_000,
    }
    settings.update(options)
    reader = CorpusReader(root, **settings)  # type: ignore[arg-type]
    report = Report()
    return list(reader.documents(report)), report


def problems(report: Report) -> dict[str, int]:
    return {reason: count for reason, count in report.dropped.items() if count}


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_txt_one_document_per_file_id_is_relative_path(tmp_path: Path, suffix: str) -> None:
    write_file(tmp_path / f"b/two.txt{suffix}", "second document")
    write_file(tmp_path / f"a.txt{suffix}", "\ufefffirst document")  # a BOM is not text
    write_file(tmp_path / f"b/c/three.TXT{suffix}", "third")
    documents, report = read(tmp_path)
    assert documents == [
        (f"a.txt{suffix}", "first document"),
        (f"b/two.txt{suffix}", "second document"),  # a folder's files before its subfolders
        (f"b/c/three.TXT{suffix}", "third"),
    ]
    assert report.files_read == 3 and not problems(report)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_jsonl_text_field_and_ids(tmp_path: Path, suffix: str) -> None:
    lines = jsonl(
        [
            {"body": "first", "id": "doc-1"},
            {"body": "second", "id": 7},
            {"body": "third"},
            {"body": "fourth", "id": ""},
        ]
    )
    write_file(tmp_path / f"part.jsonl{suffix}", lines.replace("\n", "\n\n", 1))  # a blank line
    documents, report = read(tmp_path, text_field="body")
    name = f"part.jsonl{suffix}"
    assert documents == [
        ("doc-1", "first"),
        ("7", "second"),
        (f"{name}:4", "third"),
        (f"{name}:5", "fourth"),
    ]
    assert not problems(report)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_csv_text_column_ids_and_quoting(tmp_path: Path, suffix: str) -> None:
    content = (
        "\ufeffid,title,body\r\n"  # spreadsheet exports start with a BOM
        'a1,One,"first, with a comma"\r\n'
        "\r\n"
        ',Two,"second\nover two lines"\r\n'
        'a3,Three,"a ""quoted"" word"\r\n'
    )
    write_file(tmp_path / f"t.csv{suffix}", content)
    documents, report = read(tmp_path, text_column="body")
    assert documents == [
        ("a1", "first, with a comma"),
        (f"t.csv{suffix}:2", "second\nover two lines"),
        ("a3", 'a "quoted" word'),
    ]
    assert not problems(report)


def test_csv_without_id_column_uses_row_numbers(tmp_path: Path) -> None:
    write_file(tmp_path / "t.csv", "text\nalpha\nbeta\n")
    assert read(tmp_path)[0] == [("t.csv:1", "alpha"), ("t.csv:2", "beta")]


def test_csv_cells_above_the_csv_module_default_limit(tmp_path: Path) -> None:
    long_text = "word " * 40_000  # 200 KB, over csv's default 128 Ki characters
    write_file(tmp_path / "t.csv", f"text\n{long_text}\nshort\n")
    documents, report = read(tmp_path)
    assert [text for _, text in documents] == [long_text, "short"]
    documents, report = read(tmp_path, max_document_bytes=100_000)
    assert [text for _, text in documents] == ["short"]
    assert problems(report) == {"too_large": 1}


def test_bad_files_are_counted_not_fatal(tmp_path: Path) -> None:
    write_file(tmp_path / "good.txt", "a good document")
    write_file(tmp_path / "empty.txt", "")
    write_file(tmp_path / "blank.txt", " \n\t\n")
    write_file(tmp_path / "binary.txt", b"GIF89a\x00\x01\x02 text")
    write_file(tmp_path / "latin1.txt", "caf\xe9".encode("latin-1"))
    write_file(tmp_path / "binary.jsonl", b'{"text": "x"}\n\x00\x00\x00')
    write_file(tmp_path / "nothing.jsonl", "\n\n")
    write_file(tmp_path / "header-only.csv", "id,text\n")
    write_file(tmp_path / "no-column.csv", "id,body\n1,hello\n")
    write_file(tmp_path / "zero.csv", "")
    write_file(tmp_path / "image.png", b"\x89PNG")
    write_file(tmp_path / "notes.md", "# notes")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"this is not gzip")
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"some text here" * 100)[:40])
    documents, report = read(tmp_path)
    assert documents == [("good.txt", "a good document")]
    assert problems(report) == {
        "empty": 5,  # empty.txt, blank.txt, nothing.jsonl, header-only.csv, zero.csv
        "binary": 2,
        "bad_encoding": 1,
        "missing_text": 1,
        "unsupported_file": 2,
        "unreadable": 2,
    }
    assert report.files_read == 12
    assert report.examples["unsupported_file"] == ["image.png", "notes.md"]
    assert report.examples["missing_text"] == ["no-column.csv: no column 'text'"]
    # Every reason names its places, in reading order.
    assert report.examples["empty"] == [
        "blank.txt",
        "empty.txt",
        "header-only.csv",
        "nothing.jsonl",
        "zero.csv",
    ]
    assert report.examples["binary"] == ["binary.jsonl", "binary.txt"]
    assert report.examples["bad_encoding"] == ["latin1.txt"]
    broken, cut = report.examples["unreadable"]
    assert broken.startswith("broken.jsonl.gz: ") and "gzip" in broken
    assert cut.startswith("cut.txt.gz: ") and "end-of-stream" in cut


def test_bad_lines_and_rows_are_counted_per_document(tmp_path: Path) -> None:
    lines = [
        b'{"text": "fine"}',
        b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
        b"{not json",
        b'["a list"]',
        b'{"other": "no text field"}',
        b'{"text": null}',
        b'{"text": 12}',
        b'{"text": "   "}',
        b'{"text": "' + b"x" * 200 + b'"}',
        b'{"text": "also fine"}',
    ]
    write_file(tmp_path / "a.jsonl", b"\n".join(lines) + b"\n")
    rows = b"id,text\n1,fine\n2,caf\xe9\n3\n4,\n5,ok too\n"
    write_file(tmp_path / "b.csv", rows)
    documents, report = read(tmp_path, max_document_bytes=100)
    assert [text for _, text in documents] == ["fine", "also fine", "fine", "ok too"]
    assert problems(report) == {
        "bad_encoding": 2,
        "bad_json": 2,
        "missing_text": 4,  # no field, null, a number, a short CSV row
        "empty": 2,
        "too_large": 1,
    }
    assert report.examples["bad_json"] == ["a.jsonl:3", "a.jsonl:4"]
    assert report.examples["bad_encoding"] == ["a.jsonl:2", "b.csv:2"]
    assert report.examples["missing_text"] == ["a.jsonl:5", "a.jsonl:6", "a.jsonl:7", "b.csv:3"]
    assert report.examples["empty"] == ["a.jsonl:8", "b.csv:4"]
    assert report.examples["too_large"] == ["a.jsonl:9"]


def test_too_large_counts_utf8_bytes(tmp_path: Path) -> None:
    write_file(tmp_path / "ascii.txt", "a" * 10)
    write_file(tmp_path / "accents.txt", "é" * 6)  # 6 characters, 12 bytes
    write_file(tmp_path / "a.jsonl", jsonl([{"text": "é" * 6}, {"text": "é" * 5}]))
    documents, report = read(tmp_path, max_document_bytes=10)
    assert [where for where, _ in documents] == ["a.jsonl:2", "ascii.txt"]
    assert problems(report) == {"too_large": 2}
    assert report.examples["too_large"] == ["a.jsonl:1", "accents.txt"]


def test_examples_are_capped(tmp_path: Path) -> None:
    write_file(tmp_path / "a.jsonl", "not json\n" * 20)
    _, report = read(tmp_path)
    assert report.dropped["bad_json"] == 20
    assert len(report.examples["bad_json"]) == EXAMPLES_PER_REASON


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.txt", "txt"),
        ("a.TXT.GZ", "txt"),
        ("a.jsonl.gz", "jsonl"),
        ("a.csv", "csv"),
        ("a.json", None),
        ("a.gz", None),
        ("txt", None),
        ("a.txt.bz2", None),
    ],
)
def test_file_kind(name: str, kind: str | None) -> None:
    assert file_kind(name) == kind


@pytest.mark.parametrize("name", ["program", "program.txt", "program.bin", "PROGRAM.PDF"])
def test_a_binary_file_is_binary_whatever_its_name(tmp_path: Path, name: str) -> None:
    write_file(tmp_path / name, b"\x7fELF\x02\x01\x01\x00\x00\x00" + b"\x00" * 100)
    write_file(tmp_path / "notes.md", "# notes, text in a format the reader does not take")
    documents, report = read(tmp_path)
    assert documents == []
    assert problems(report) == {"binary": 1, "unsupported_file": 1}
    assert report.examples["binary"] == [name]


def test_each_dropped_csv_row_is_named_by_its_row_number(tmp_path: Path) -> None:
    huge = "w" * 140_000  # over the csv module's own cell limit (128 Ki characters)
    rows = f"id,text\n1,ok\n\n2\n3,{'x' * 20}\n4,{huge}\n5,   \n6,fine\n"
    write_file(tmp_path / "c.csv", rows)
    write_file(tmp_path / "d.csv", f"id,{huge}\n1,x\n")  # a header the csv module refuses
    documents, report = read(tmp_path, max_document_bytes=10)
    # Rows are counted from the first after the header; a blank line is not a row.
    assert documents == [("1", "ok"), ("6", "fine")]
    assert problems(report) == {"missing_text": 1, "too_large": 2, "empty": 1, "bad_csv": 1}
    assert report.examples["missing_text"] == ["c.csv:2"]
    assert report.examples["too_large"] == ["c.csv:3", "c.csv:4"]
    assert report.examples["empty"] == ["c.csv:5"]
    assert report.examples["bad_csv"] == ["d.csv:header"]


def test_a_missing_folder_is_counted_unreadable(tmp_path: Path) -> None:
    documents, report = read(tmp_path / "gone")
    assert documents == []
    assert problems(report) == {"unreadable": 1}
    assert report.examples["unreadable"] == [f"{tmp_path / 'gone'}: No such file or directory"]


def test_a_nul_byte_beyond_the_first_8_kib(tmp_path: Path) -> None:
    late_nul = b"words " * 1500 + b"\x00"  # 9,000 bytes of text, then a NUL
    write_file(tmp_path / "late.txt", late_nul)  # .txt: binary wherever the NUL is
    write_file(tmp_path / "late.bin", late_nul)  # other names: only the first 8 KiB are sniffed
    # A NUL early in a .txt file over the limit: binary, not too_large.
    write_file(tmp_path / "large.txt", b"\x00" + b"x" * 20_000)
    documents, report = read(tmp_path, max_document_bytes=10_000)
    assert documents == []
    assert problems(report) == {"binary": 2, "unsupported_file": 1}
    assert report.examples["binary"] == ["large.txt", "late.txt"]
    assert report.examples["unsupported_file"] == ["late.bin"]


def test_a_file_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    documents, report = read(tmp_path)
    assert documents == []
    assert problems(report) == {"unsupported_file": 1, "unreadable": 1}
    assert report.examples["unsupported_file"] == ["dangling.md"]
    assert report.examples["unreadable"][0].startswith("dangling.txt: [Errno 2] ")


def test_a_large_txt_file_is_not_read_whole(tmp_path: Path) -> None:
    write_file(tmp_path / "big.txt", b"word " * 2_000_000)  # 10 MB
    tracemalloc.start()
    try:
        documents, report = read(tmp_path, max_document_bytes=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert documents == [] and report.examples["too_large"] == ["big.txt"]
    assert peak < 1_000_000, peak


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_a_bom_starts_only_the_first_line_of_a_jsonl_file(tmp_path: Path, suffix: str) -> None:
    bom = b"\xef\xbb\xbf"
    write_file(
        tmp_path / f"a.jsonl{suffix}", bom + b'{"text": "one"}\n' + bom + b'{"text": "two"}\n'
    )
    documents, report = read(tmp_path)
    assert documents == [(f"a.jsonl{suffix}:1", "one")]
    assert report.examples["bad_json"] == [f"a.jsonl{suffix}:2"]


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_the_byte_limit_is_inclusive(tmp_path: Path, kind: str) -> None:
    texts = ["a" * 10, "a" * 11, "é" * 5, "é" * 5 + "a", "\U0001f600" * 2 + "ab", "\U0001f600" * 3]
    if kind == "jsonl":
        write_file(tmp_path / "t.jsonl", jsonl({"text": text} for text in texts))
    else:
        write_file(tmp_path / "t.csv", "text\n" + "".join(f"{text}\n" for text in texts))
    documents, report = read(tmp_path, max_document_bytes=10)
    # 10 bytes are accepted, 11 are not, whatever the characters (é: 2 bytes, U+1F600: 4).
    assert [text for _, text in documents] == [texts[0], texts[2], texts[4]]
    assert report.examples["too_large"] == [f"t.{kind}:2", f"t.{kind}:4", f"t.{kind}:6"]


def test_a_csv_cell_may_be_exactly_as_long_as_the_limit_above_the_csv_module_limit(
    tmp_path: Path,
) -> None:
    limit = 200_000  # over the csv module's default of 128 Ki characters
    write_file(tmp_path / "t.csv", f"text\n{'a' * limit}\n{'b' * (limit + 1)}\nshort\n")
    before = csv.field_size_limit()
    documents, report = read(tmp_path, max_document_bytes=limit)
    assert [text for _, text in documents] == ["a" * limit, "short"]
    assert report.examples["too_large"] == ["t.csv:2"]
    assert csv.field_size_limit() == before  # put back


def test_csv_cells_keep_their_own_line_ends_and_any_utf8_text(tmp_path: Path) -> None:
    write_file(tmp_path / "t.csv", b'id,text\r\n1,"two\r\nlines"\r\n2,caf\xc3\xa9 \xe4\xb8\xad\r\n')
    documents, report = read(tmp_path)
    assert documents == [("1", "two\r\nlines"), ("2", "café 中")]
    assert not problems(report)


def test_a_csv_row_shorter_than_its_id_column_is_named_by_its_row_number(tmp_path: Path) -> None:
    write_file(tmp_path / "t.csv", "text,id\nfirst,a1\nsecond\nthird,\n")
    assert read(tmp_path)[0] == [("a1", "first"), ("t.csv:2", "second"), ("t.csv:3", "third")]


class _Rows:
    """A csv reader whose second row cannot be parsed, as Python 3.9's refuses a NUL byte."""

    def __init__(self) -> None:
        self._rows: list[list[str] | csv.Error] = [
            ["text"],
            ["first"],
            csv.Error("line contains NUL"),
            ["third"],
        ]

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> list[str]:
        if not self._rows:
            raise StopIteration
        row = self._rows.pop(0)
        if isinstance(row, csv.Error):
            raise row
        return row


def test_a_csv_row_the_csv_module_refuses_is_bad_csv_and_reading_goes_on(tmp_path: Path) -> None:
    reader = CorpusReader(tmp_path, "text", "text", max_document_bytes=100)
    report = Report()
    documents = list(reader._rows(_Rows(), "t.csv", report))
    assert documents == [("t.csv:1", "first"), ("t.csv:3", "third")]
    assert problems(report) == {"bad_csv": 1}
    assert report.examples["bad_csv"] == ["t.csv:2"]
