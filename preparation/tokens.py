"""Text to words.

The rules, in order:

1. The text is normalized to Unicode NFKC, so that "ﬁ" is "fi", full-width letters are
   ordinary letters and an accented letter is the same token whether it was typed as one code
   point or as a letter plus a combining accent.
2. Lower-cased, if the config says so (``str.lower``).
3. A word broken across lines is joined again: a letter, a hyphen (``-``, U+2010 HYPHEN or a
   soft hyphen, U+00AD) at the end of a line, then, after the line break and any indentation, a
   letter: "ele-" + newline + "ment" is "element", as typeset text (man pages, PDFs turned into
   text) breaks words. A compound broken at its own hyphen ("state-of-the-" + newline + "art")
   is joined too; the split words it would have given are lost, the fragments are worse. Soft
   hyphens elsewhere are invisible break hints and are removed ("ele\u00adment" is "element").
4. A word is a maximal run of word characters (letters, digits, underscore, combining marks)
   that holds letters and combining marks only and begins with a letter. Runs with a digit or
   an underscore are dropped whole: "covid19", "mp3", "2nd" and "snake_case" give no token
   rather than fragments such as "nd". Everything else separates words, apostrophes and
   hyphens included: "don't" gives "don" and "t", "state-of-the-art" gives "state", "of",
   "the", "art", "O'Neill's" gives "neill" (with "o" and "s" below the minimum length).
   Combining marks belong to the word so that scripts written with them (Devanagari, Thai
   vowel signs) keep whole words; only marks outside the Basic Multilingual Plane (historic
   scripts, variation selectors) are treated as separators.
5. Words shorter than ``min_token_length`` code points are dropped.
6. Stop words are dropped; they are matched after the same normalization and, when the text is
   not lower-cased, without regard to case.

Languages written without spaces between words (Chinese, Japanese, Thai) need segmenting
before they reach this tokenizer: a whole clause would otherwise be one token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .stopwords import ENGLISH_STOP_WORDS


def _marks() -> list[tuple[int, int]]:  # pragma: no mutate block
    """Ranges of the combining marks in the Basic Multilingual Plane.

    Only the BMP: with any code point above U+FFFF in a class, ``re`` can no longer use its
    compact lookup table for it and every document tokenizes several times slower.

    (Run once, at import: the tokenizer tests check its result, but a mutation run, which
    picks its mutant after the import, cannot reach it.)
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return ranges


_MARK_RANGES = _marks()
_MARKS = frozenset(chr(code) for low, high in _MARK_RANGES for code in range(low, high + 1))
# Maximal runs of word characters: letters, digits, underscore and combining marks.
_RUNS = re.compile(
    "[\\w"
    + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _MARK_RANGES)
    + "]+"
)
# For ASCII text the same runs come faster from bytes.translate and split: every byte that is
# not a word character becomes a space.
_ASCII_WORD = frozenset(b"0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ASCII_SEPARATORS = bytes(byte if byte in _ASCII_WORD else 0x20 for byte in range(256))


# A hyphen after a letter, ending its line, the line break and the next line's indentation,
# then a letter. Each pattern begins with the hyphen, so that re scans for it quickly; ASCII
# text has only one kind of hyphen, and a literal is scanned faster still.
_BROKEN_WORD = re.compile(r"[-\u2010\u00ad](?<=[^\W\d_].)[ \t]*\r?\n[ \t]*(?=[^\W\d_])")
_BROKEN_ASCII_WORD = re.compile(r"-(?<=[A-Za-z]-)[ \t]*\r?\n[ \t]*(?=[A-Za-z])")
_SOFT_HYPHEN = "\u00ad"


def normalize(text: str, lowercase: bool) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _BROKEN_WORD.sub("", text).replace(_SOFT_HYPHEN, "")
    elif "-" in text:
        text = _BROKEN_ASCII_WORD.sub("", text)
    return text.lower() if lowercase else text


def _runs(text: str) -> tuple[list[str], bool]:
    """The word-character runs of normalized text, and whether the text is ASCII."""
    if text.isascii():
        # Codec names ignore case, and for ASCII runs the flag only picks the faster of two
        # tests that agree (``document_terms``).
        data = text.encode("ascii")  # pragma: no mutate
        separated = data.translate(_ASCII_SEPARATORS).decode("ascii")  # pragma: no mutate
        return separated.split(), True  # pragma: no mutate
    return _RUNS.findall(text), False


def _letters_and_marks(run: str) -> bool:
    return run.isalpha() or (run[0].isalpha() and all(c.isalpha() or c in _MARKS for c in run))


class Tokenizer:
    """Words and tokens of a text, under one config's rules."""

    def __init__(
        self,
        lowercase: bool = True,
        min_token_length: int = 2,
        stop_words: Iterable[str] | None = None,
    ) -> None:
        if min_token_length < 1:
            raise ValueError("min_token_length: must be >= 1")
        self.lowercase = lowercase
        self.min_token_length = min_token_length
        words = ENGLISH_STOP_WORDS if stop_words is None else stop_words
        self.stop_words = frozenset(normalize(word, lowercase=True) for word in words)

    def runs(self, text: str) -> list[str]:
        """The maximal runs of word characters of the normalized text; the words are among them.

        Every vocabulary word is a run, so counting runs and keeping those in the vocabulary
        counts tokens without testing each run.
        """
        return _runs(normalize(text, self.lowercase))[0]

    def is_word(self, run: str) -> bool:
        """Whether a run is a word: long enough, letters and combining marks, a letter first."""
        return len(run) >= self.min_token_length and _letters_and_marks(run)

    def is_stop_word(self, word: str) -> bool:
        """Whether a word of this tokenizer's (as ``words`` gives it) is a stop word."""
        # With lowercasing on, such a word is lower case already: lowering it again would
        # change nothing.
        return (word if self.lowercase else word.lower()) in self.stop_words  # pragma: no mutate

    def words(self, text: str) -> list[str]:
        """Every word of the text in order, stop words included."""
        return [run for run in self.runs(text) if self.is_word(run)]

    def tokens(self, text: str) -> list[str]:
        """The words of the text that count: stop words removed."""
        return [word for word in self.words(text) if not self.is_stop_word(word)]

    def distinct_tokens(self, text: str) -> set[str]:
        """The set of tokens of the text."""
        return {run for run in self.document_terms(text) if len(run) >= self.min_token_length}

    def document_terms(self, text: str) -> Iterable[str]:
        """The distinct tokens of the text, and runs below the minimum length.

        Pass 1 counts these for every document, so the work per run is kept inside C: leaving
        the length test to the vocabulary selection (``is_word``) saves a Python call per run.
        """
        runs, ascii_only = _runs(normalize(text, self.lowercase))
        distinct = set(runs)
        if not self.lowercase:
            return [
                run for run in distinct if _letters_and_marks(run) and not self.is_stop_word(run)
            ]
        distinct -= self.stop_words
        if ascii_only:
            return filter(str.isalpha, distinct)
        return [run for run in distinct if _letters_and_marks(run)]
