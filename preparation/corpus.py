"""Documents out of a folder of files, one at a time, with every problem counted.

Files are visited in a fixed order (a folder's files sorted by name, then its subfolders,
sorted, each in the same way), so two passes over an unchanged folder see the same documents
in the same order.
Nothing here is fatal: a file or document that cannot be used is counted under a reason and
skipped.

What one count of each reason stands for:

- ``unsupported_file``: a file whose name does not end in .txt, .jsonl or .csv (each optionally
  followed by .gz), and that is not binary.
- ``binary``: a file with a NUL byte in its first 8 KiB (in a .txt file: anywhere), whatever its
  name: an image, a PDF or an executable counts as binary with or without an extension.
- ``unreadable``: a file or directory that could not be read, or a .gz file that is not valid
  gzip or is cut short (documents before the damage are kept).
- ``empty``: a .txt file, JSON line or CSV row whose text is empty or only white space; or a
  .jsonl/.csv file with no documents at all (only blank lines, or only a header).
- ``bad_encoding``: a .txt file, JSON line or CSV row that is not valid UTF-8.
- ``bad_json``: a line that is not a JSON object.
- ``bad_csv``: a CSV row the csv module cannot parse.
- ``missing_text``: a JSON object without a string in ``text_field``, a CSV row without a
  ``text_column`` cell, or a .csv file whose header has no ``text_column`` (counted once).
- ``too_large``: a document whose text is more than ``max_document_bytes`` UTF-8 bytes.
- ``too_few_tokens``: counted by the caller, after tokenizing.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

REASONS = (
    "too_few_tokens",
    "empty",
    "binary",
    "bad_encoding",
    "bad_json",
    "bad_csv",
    "missing_text",
    "too_large",
    "unsupported_file",
    "unreadable",
)
EXAMPLES_PER_REASON = 5
_SNIFF_BYTES = 8192
_BOM = b"\xef\xbb\xbf"
# Undecodable bytes come through CSV decoding as these lone surrogates ("surrogateescape").
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


class Report:
    """Counts of what was skipped and why, with the first few places of each reason."""

    def __init__(self) -> None:
        self.dropped: dict[str, int] = dict.fromkeys(REASONS, 0)
        self.examples: dict[str, list[str]] = {reason: [] for reason in REASONS}
        self.files_read = 0

    def drop(self, reason: str, where: str) -> None:
        self.dropped[reason] += 1
        if len(self.examples[reason]) < EXAMPLES_PER_REASON:
            self.examples[reason].append(where)


def file_kind(name: str) -> str | None:
    """``txt``, ``jsonl`` or ``csv`` for a name this reader understands, else None."""
    lowered = name.lower()
    if lowered.endswith(".gz"):
        lowered = lowered[:-3]
    for kind in ("txt", "jsonl", "csv"):
        if lowered.endswith("." + kind):
            return kind
    return None


def _open(path: Path) -> BinaryIO:
    # "rb" is gzip.open's default mode, and a buffer's size changes only how often the file is
    # read from: leaving either out, or another size, reads the same bytes.
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]  # pragma: no mutate
    return open(path, "rb", buffering=1 << 16)  # pragma: no mutate


def walk(root: Path, report: Report) -> Iterator[Path]:
    """Every file under root, in sorted order; holds one directory listing at a time."""

    def unreadable(error: OSError) -> None:
        report.drop("unreadable", f"{error.filename}: {error.strerror}")

    for directory, subdirectories, names in os.walk(root, onerror=unreadable):
        subdirectories.sort()
        for name in sorted(names):
            yield Path(directory, name)


class CorpusReader:
    """The documents of a folder, as (document id, text) pairs."""

    def __init__(
        self, root: Path, text_field: str, text_column: str, max_document_bytes: int
    ) -> None:
        self.root = root
        self.text_field = text_field
        self.text_column = text_column
        self.max_document_bytes = max_document_bytes

    def documents(self, report: Report) -> Iterator[tuple[str, str]]:
        for path in walk(self.root, report):
            where = path.relative_to(self.root).as_posix()
            kind = file_kind(path.name)
            if kind is None:
                report.drop(self._unsupported(path), where)
                continue
            report.files_read += 1
            try:
                if kind == "txt":
                    yield from self._txt(path, where, report)
                    continue
                with _open(path) as stream:
                    head = stream.read(_SNIFF_BYTES)
                if b"\x00" in head:
                    report.drop("binary", where)
                elif kind == "jsonl":
                    yield from self._jsonl(path, where, report)
                else:
                    yield from self._csv(path, where, report)
            except (OSError, EOFError, zlib.error) as error:
                report.drop("unreadable", f"{where}: {error}")

    @staticmethod
    def _unsupported(path: Path) -> str:
        """``binary`` for a file that holds binary data, else ``unsupported_file``."""
        try:
            with open(path, "rb") as stream:
                head = stream.read(_SNIFF_BYTES)
        except OSError:
            return "unsupported_file"
        return "binary" if b"\x00" in head else "unsupported_file"

    def _too_large(self, text: str, encoded_at_most: int) -> bool:
        """Whether text is over the byte limit; encoded_at_most bounds its UTF-8 size."""
        limit = self.max_document_bytes
        # A shortcut only: at the bound itself the exact test below gives the same answer.
        if encoded_at_most <= limit:  # pragma: no mutate
            return False
        if len(text) > limit:
            return True
        return len(text.encode("utf-8", "surrogatepass")) > limit

    def _txt(self, path: Path, where: str, report: Report) -> Iterator[tuple[str, str]]:
        with _open(path) as stream:
            # One byte over the limit tells a file that is too large; more would tell the same.
            data = stream.read(self.max_document_bytes + 1)  # pragma: no mutate
        if b"\x00" in data[:_SNIFF_BYTES]:
            report.drop("binary", where)
        elif len(data) > self.max_document_bytes:
            report.drop("too_large", where)
        elif b"\x00" in data:
            report.drop("binary", where)
        else:
            try:
                # Codec names ignore case.
                text = data.decode("utf-8-sig")  # pragma: no mutate
            except UnicodeDecodeError:
                report.drop("bad_encoding", where)
                return
            if not text or text.isspace():
                report.drop("empty", where)
            else:
                yield where, text

    def _jsonl(self, path: Path, where: str, report: Report) -> Iterator[tuple[str, str]]:
        field = self.text_field
        # Only ever tested for truth: None would do as well as False.
        found = False  # pragma: no mutate
        with _open(path) as stream:
            for number, raw in enumerate(stream, 1):
                if number == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if raw.isspace() or not raw:
                    continue
                found = True
                location = f"{where}:{number}"
                try:
                    # Codec names ignore case.
                    line = raw.decode("utf-8")  # pragma: no mutate
                except UnicodeDecodeError:
                    report.drop("bad_encoding", location)
                    continue
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError):
                    report.drop("bad_json", location)
                    continue
                if not isinstance(record, dict):
                    report.drop("bad_json", location)
                    continue
                text = record.get(field)
                if not isinstance(text, str):
                    report.drop("missing_text", location)
                # A JSON string's UTF-8 is never longer than its escaped form in the line.
                elif self._too_large(text, len(raw)):
                    report.drop("too_large", location)
                elif not text or text.isspace():
                    report.drop("empty", location)
                else:
                    yield _document_id(record.get("id"), location), text
        if not found:
            report.drop("empty", where)

    def _csv(self, path: Path, where: str, report: Report) -> Iterator[tuple[str, str]]:
        previous_limit = csv.field_size_limit()
        # A cell longer than the document limit is too large anyway; the csv module's
        # default limit (128 Ki characters) is lower than the default document limit. Any limit
        # at or above the document limit gives the same verdicts (a cell is either refused by
        # the csv module or measured after it).
        csv.field_size_limit(max(previous_limit, self.max_document_bytes + 1))  # pragma: no mutate
        try:
            with io.TextIOWrapper(
                _open(path),
                # Codec names ignore case.
                encoding="utf-8-sig",  # pragma: no mutate
                errors="surrogateescape",
                newline="",
            ) as stream:
                yield from self._rows(csv.reader(stream), where, report)
        finally:
            csv.field_size_limit(previous_limit)

    def _rows(
        self, reader: Iterator[list[str]], where: str, report: Report
    ) -> Iterator[tuple[str, str]]:
        try:
            header = next(reader, None)
        except csv.Error:
            report.drop("bad_csv", f"{where}:header")
            return
        if header is None:
            report.drop("empty", where)
            return
        if self.text_column not in header:
            report.drop("missing_text", f"{where}: no column {self.text_column!r}")
            return
        text_index = header.index(self.text_column)
        id_index = header.index("id") if "id" in header else None
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                number += 1
                reason = "too_large" if "field larger" in str(error) else "bad_csv"
                report.drop(reason, f"{where}:{number}")
                continue
            if not row:  # a blank line
                continue
            number += 1
            location = f"{where}:{number}"
            if len(row) <= text_index:
                report.drop("missing_text", location)
                continue
            text = row[text_index]
            if not text.isascii() and _ESCAPED_BYTE.search(text):
                report.drop("bad_encoding", location)
            # UTF-8 takes at most 4 bytes a code point; a larger bound only skips the shortcut.
            elif self._too_large(text, 4 * len(text)):  # pragma: no mutate
                report.drop("too_large", location)
            elif not text or text.isspace():
                report.drop("empty", location)
            else:
                identifier = row[id_index] if id_index is not None and id_index < len(row) else ""
                yield identifier or location, text
        if number == 0:
            report.drop("empty", where)


def _document_id(value: object, default: str) -> str:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return default
