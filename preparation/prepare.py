"""Raw documents to an NTM dataset in two streaming passes.

Pass 1 reads every document and counts, per token, the documents it occurs in; that counter is
the only thing that grows with the corpus. The vocabulary is chosen from it. Pass 2 reads the
documents again, turns each into word-id counts, drops those with fewer than
``min_document_tokens`` in-vocabulary tokens, picks its split from its id and appends it to a
shard file. Output, under the output folder::

    train/part-00000.pbr ...    recordIO-protobuf, float32 counts, one record per document
    validation/part-00000.pbr
    test/part-00000.pbr
    auxiliary/vocab.txt         line i is word id i
    dataset.json                the summary, written last (also when nothing was usable)
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import PreparationConfig
from .corpus import CorpusReader, Report
from .shards import ShardWriter
from .splits import SPLITS, SplitAssigner
from .tokens import Tokenizer
from .vocabulary import select_vocabulary

FORMAT_VERSION = 1
SUMMARY_FILE = "dataset.json"
VOCABULARY_FILE = "auxiliary/vocab.txt"
_PROGRESS_EVERY = 250_000

log = logging.getLogger(__name__)


@dataclass
class DatasetSummary:
    """What a run read, dropped and wrote; ``to_dict()`` is the content of dataset.json."""

    config: dict[str, Any]
    documents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_examples: dict[str, list[str]] = field(default_factory=dict)
    files_read: int = 0
    documents_scanned: int = 0
    vocabulary_size: int = 0
    total_tokens: int = 0
    nonzeros: int = 0
    sparsity: float | None = None
    shards: dict[str, list[str]] = field(default_factory=dict)
    empty_splits: list[str] = field(default_factory=list)
    vocabulary_file: str | None = None
    error: str | None = None
    format_version: int = FORMAT_VERSION

    @property
    def total_documents(self) -> int:
        return sum(self.documents.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["documents"]["total"] = self.total_documents
        return out

    def to_json(self) -> str:
        """The text of dataset.json, as the job also prints it: indented by two spaces, text
        outside ASCII written as it is, one trailing newline."""
        text = json.dumps(
            self.to_dict(),
            indent=2,
            # json.dumps writes the same text for any false value here (False or None).
            ensure_ascii=False,  # pragma: no mutate
        )
        return text + "\n"


class NoUsableDocuments(Exception):
    """The corpus gave no document to train on; ``summary`` says why."""

    def __init__(self, summary: DatasetSummary) -> None:
        super().__init__(summary.error)
        self.summary = summary


def check_folders(input_dir: Path, output_dir: Path) -> None:
    """Raise unless input_dir is a folder and output_dir is new or empty and apart from it."""
    if not input_dir.is_dir():
        raise NotADirectoryError(f"input folder {input_dir} does not exist or is not a folder")
    source, target = input_dir.resolve(), output_dir.resolve()
    # Pass 2 would read what pass 1 had not seen, such as auxiliary/vocab.txt.
    if target.is_relative_to(source) or source.is_relative_to(target):
        raise ValueError("the input and output folders must not contain each other")
    if output_dir.exists() and any(output_dir.iterdir()):
        raise FileExistsError(f"output folder {output_dir} is not empty")


def _write_utf8(path: Path, text: str) -> None:
    """Write text as UTF-8 bytes, whatever the locale, with the line ends as they are."""
    # str.encode's default codec is UTF-8 and codec names ignore case: leaving the name out or
    # upper-casing it writes the same bytes.
    path.write_bytes(text.encode("utf-8"))  # pragma: no mutate


def _write_summary(output_dir: Path, summary: DatasetSummary) -> None:
    _write_utf8(output_dir / SUMMARY_FILE, summary.to_json())


def _fail(output_dir: Path, summary: DatasetSummary, error: str) -> NoUsableDocuments:
    summary.error = error
    summary.empty_splits = list(SPLITS)
    _write_summary(output_dir, summary)
    return NoUsableDocuments(summary)


def prepare(input_dir: Path, output_dir: Path, config: PreparationConfig) -> DatasetSummary:
    """Turn the documents under input_dir into an NTM dataset under output_dir.

    Raises NoUsableDocuments (after writing dataset.json) when no document survives.
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    check_folders(input_dir, output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(config.lowercase, config.min_token_length, config.stop_words)
    reader = CorpusReader(
        input_dir, config.text_field, config.text_column, config.max_document_bytes
    )
    report = Report()
    summary = DatasetSummary(
        config=config.to_dict(), dropped=report.dropped, dropped_examples=report.examples
    )

    log.info("pass 1: counting document frequencies under %s", input_dir)
    document_frequency: Counter[str] = Counter()
    scanned = 0
    for _, text in reader.documents(report):
        document_frequency.update(tokenizer.document_terms(text))
        scanned += 1
        if scanned % _PROGRESS_EVERY == 0:
            log.info("pass 1: %d documents, %d distinct tokens", scanned, len(document_frequency))
    summary.files_read = report.files_read
    summary.documents_scanned = scanned
    if not scanned:
        raise _fail(output_dir, summary, "no readable document in the input folder")

    vocabulary = select_vocabulary(
        document_frequency,
        scanned,
        config.min_df,
        config.max_df,
        config.max_vocabulary,
        accept=tokenizer.is_word,
    )
    log.info("vocabulary: %d of %d distinct tokens", len(vocabulary), len(document_frequency))
    del document_frequency
    summary.vocabulary_size = len(vocabulary)
    if not vocabulary:
        raise _fail(output_dir, summary, "no token meets min_df and max_df")

    log.info("pass 2: writing records to %s", output_dir)
    writer = ShardWriter(output_dir, len(vocabulary), config.train_shards)
    try:
        _write_records(reader, tokenizer, vocabulary, config, writer, report)
    finally:
        writer.close()
    summary.documents = dict(writer.documents)
    summary.total_tokens = writer.tokens
    summary.nonzeros = writer.nonzeros
    summary.shards = writer.files()
    summary.empty_splits = [split for split in SPLITS if not writer.documents[split]]
    if not summary.total_documents:
        raise _fail(
            output_dir,
            summary,
            f"every document has fewer than {config.min_document_tokens} in-vocabulary tokens",
        )
    summary.sparsity = 1 - writer.nonzeros / (summary.total_documents * len(vocabulary))

    vocabulary_path = output_dir / VOCABULARY_FILE
    # The output folder was empty and the shards are in train/, validation/ and test/.
    vocabulary_path.parent.mkdir()
    _write_utf8(vocabulary_path, "".join(f"{word}\n" for word in vocabulary))
    summary.vocabulary_file = VOCABULARY_FILE
    _write_summary(output_dir, summary)
    log.info("done: %s documents", summary.documents)
    return summary


def _write_records(
    reader: CorpusReader,
    tokenizer: Tokenizer,
    vocabulary: list[str],
    config: PreparationConfig,
    writer: ShardWriter,
    report: Report,
) -> None:
    index = {word: position for position, word in enumerate(vocabulary)}
    known, word_id = index.__contains__, index.__getitem__
    assign = SplitAssigner(config.validation_ratio, config.test_ratio, config.split_salt)
    minimum = config.min_document_tokens
    runs = tokenizer.runs
    # Pass 1 already counted every other reason; this pass only adds too_few_tokens.
    for position, (document_id, text) in enumerate(reader.documents(Report()), 1):
        # Stop words, short runs and runs with digits are never in the vocabulary, so keeping
        # the runs that are in it applies every token rule; filter and map keep that in C.
        counts = Counter(map(word_id, filter(known, runs(text))))
        keys = sorted(counts)
        values = list(map(counts.__getitem__, keys))
        if sum(values) < minimum:
            report.drop("too_few_tokens", document_id)
        else:
            writer.write(assign(document_id), keys, values)
        if position % _PROGRESS_EVERY == 0:
            log.info("pass 2: %d documents", position)
