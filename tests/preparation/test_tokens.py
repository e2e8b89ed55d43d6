"""Tokenization rules: Unicode letters, no digits or punctuation, case, stop words, length."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preparation.stopwords import ENGLISH_STOP_WORDS
from preparation.tokens import Tokenizer

plain = Tokenizer(stop_words=[])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Café naïve Über", ["café", "naïve", "über"]),
        ("Привет, мир! Ёлка", ["привет", "мир", "ёлка"]),
        ("Ελληνικά κείμενα", ["ελληνικά", "κείμενα"]),
        ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),  # vowel signs are combining marks
        ("cafe\u0301 au lait", ["café", "au", "lait"]),  # decomposed accent, NFKC composes it
        ("\ufb01sh \uff21\uff22\uff23", ["fish", "abc"]),  # ligature and full-width letters
        ("1990 3.14 covid19 mp3 2nd x86 snake_case", []),  # a run with a digit or _ is dropped
        ("the year 2024, in 2024's fall", ["the", "year", "in", "fall"]),
        ("don't we'll O'Neill's", ["don", "we", "ll", "neill"]),  # apostrophes split
        ("state-of-the-art e-mail", ["state", "of", "the", "art", "mail"]),  # hyphens split
        ("hello,world...(again)!?", ["hello", "world", "again"]),
        ("a I x yz", ["yz"]),  # below the default minimum length of 2
        ("", []),
    ],
)
def test_words(text: str, words: list[str]) -> None:
    assert plain.words(text) == words


def test_lowercasing_is_optional() -> None:
    assert Tokenizer(lowercase=False, stop_words=[]).words("Apple APPLE apple") == [
        "Apple",
        "APPLE",
        "apple",
    ]
    assert plain.words("Apple APPLE apple") == ["apple"] * 3


def test_stop_words_default_list_and_replacement() -> None:
    assert 170 <= len(ENGLISH_STOP_WORDS) <= 320
    assert {"the", "and", "don", "ll", "would"} <= ENGLISH_STOP_WORDS
    default = Tokenizer()
    assert default.tokens("The cat and the dog would not sleep") == ["cat", "dog", "sleep"]
    custom = Tokenizer(stop_words=["cat", "Dog"])
    assert custom.tokens("The cat and the dog") == ["the", "and", "the"]


def test_stop_words_ignore_case_when_text_is_not_lowercased() -> None:
    tokenizer = Tokenizer(lowercase=False)
    assert tokenizer.tokens("The Cat AND the dog") == ["Cat", "dog"]
    assert tokenizer.distinct_tokens("The Cat AND the dog") == {"Cat", "dog"}


def test_min_token_length_counts_code_points() -> None:
    assert Tokenizer(min_token_length=4, stop_words=[]).words("ab abc abcd café naïve") == [
        "abcd",
        "café",
        "naïve",
    ]
    assert Tokenizer(min_token_length=1, stop_words=[]).words("a b 1 c2") == ["a", "b"]


def test_distinct_tokens_are_the_set_of_tokens() -> None:
    tokenizer = Tokenizer()
    text = "The cat saw the other cat; a dog saw it too. Кот и кот."
    assert tokenizer.distinct_tokens(text) == set(tokenizer.tokens(text))


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_ascii_and_unicode_patterns_agree(text: str) -> None:
    # ASCII text takes a faster pattern; appending a non-ASCII separator forces the other.
    assert plain.words(text) == plain.words(text + " \u00a7")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ele-\nment", ["element"]),
        ("ele-\r\n        ment", ["element"]),  # CRLF, then a man page's indentation
        ("ele- \t\n\tment", ["element"]),  # blanks before the break
        ("ele\u2010\nment", ["element"]),  # U+2010 HYPHEN
        ("ele\u00ad\nment", ["element"]),  # a soft hyphen at the break
        ("ele\u00adment", ["element"]),  # a soft hyphen inside a line is only a hint
        ("Über-\nfluss", ["überfluss"]),
        ("ele-\n\nment", ["ele", "ment"]),  # a blank line ends the paragraph
        ("ele - \nment", ["ele", "ment"]),  # a dash between words, not a broken word
        ("page 19-\n20 and x-\n2y", ["page", "and"]),  # digits are never joined into words
        ("ele-ment", ["ele", "ment"]),  # a hyphen inside a line still separates
    ],
)
def test_words_broken_across_lines_are_joined(text: str, words: list[str]) -> None:
    assert plain.words(text) == words
    assert Tokenizer(stop_words=[]).tokens(text) == words
    assert set(plain.document_terms(text)) >= set(words)


@given(st.text(alphabet="ab1_- \t\r\n", max_size=40))
def test_ascii_and_unicode_patterns_join_the_same_breaks(text: str) -> None:
    assert plain.words(text) == plain.words(text + " \u00a7")


@given(st.text(max_size=60))
def test_every_word_is_letters_and_marks(text: str) -> None:
    for word in plain.words(text):
        assert len(word) >= 2
        assert unicodedata.category(word[0]).startswith("L")
        assert all(unicodedata.category(ch)[0] in "LM" for ch in word)


@given(st.text(max_size=80), st.booleans(), st.integers(min_value=1, max_value=4))
def test_document_terms_and_runs_agree_with_tokens(text: str, lowercase: bool, length: int) -> None:
    tokenizer = Tokenizer(lowercase=lowercase, min_token_length=length, stop_words=["the", "Ab"])
    tokens = tokenizer.tokens(text)
    assert tokenizer.distinct_tokens(text) == set(tokens)
    # Pass 1 counts document_terms and keeps is_word; pass 2 counts runs found in the vocabulary.
    assert {term for term in tokenizer.document_terms(text) if tokenizer.is_word(term)} == set(
        tokens
    )
    runs = tokenizer.runs(text)
    assert [run for run in runs if run in set(tokens)] == tokens


def test_the_mark_ranges_are_exactly_the_bmp_combining_marks() -> None:
    from preparation import tokens

    expected = {chr(c) for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M")}
    assert expected == tokens._MARKS
    ranges = tokens._MARK_RANGES
    assert ranges == sorted(ranges)
    # Maximal: no two ranges touch, so each is one run of consecutive marks.
    assert all(high + 1 < next_low for (_, high), (next_low, _) in itertools.pairwise(ranges))
    assert all(low <= high for low, high in ranges)


def test_default_minimum_length_is_two_and_stop_words_ignore_case() -> None:
    assert Tokenizer().tokens("an ox is an ox") == ["ox", "ox"]
    cased = Tokenizer(lowercase=False)
    assert cased.is_stop_word("The") is True
    assert cased.tokens("The Ox") == ["Ox"]
    with pytest.raises(ValueError, match=r"^min_token_length: must be >= 1$"):
        Tokenizer(min_token_length=0)


def test_distinct_tokens_of_ascii_text_drop_runs_with_digits_or_underscores() -> None:
    text = "covid19 mp3 2nd snake_case _ 42 word Word"
    assert plain.distinct_tokens(text) == {"word"}
    assert set(plain.document_terms(text)) == {"word"}
    # Not lower-cased: the other branch, the same rule.
    assert set(Tokenizer(lowercase=False, stop_words=[]).document_terms(text)) == {"word", "Word"}
