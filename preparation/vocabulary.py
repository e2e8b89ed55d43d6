"""Which tokens become NTM's words, and in which order.

Document frequency (df) is the number of documents a token occurs in, counted over every
document that reached the tokenizer in pass 1, including those later dropped for having too few
in-vocabulary tokens (which cannot be known before the vocabulary is). A token is eligible when
``min_df <= df <= max_df``, where an integer is a document count and a float a fraction of the
documents, as in scikit-learn's CountVectorizer. The ``max_vocabulary`` eligible tokens with
the highest df are kept, ties going to the token that sorts first by code point, and word id i
is the i-th of them in that order (descending df, then token), so the same corpus and config
always give the same ids.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping


def frequency_bounds(
    min_df: int | float, max_df: int | float, documents: int
) -> tuple[float, float]:
    """The inclusive document-count bounds for a corpus of ``documents`` documents."""
    low = min_df if isinstance(min_df, int) else min_df * documents
    high = max_df if isinstance(max_df, int) else max_df * documents
    return float(low), float(high)


def select_vocabulary(
    document_frequency: Mapping[str, int],
    documents: int,
    min_df: int | float,
    max_df: int | float,
    max_vocabulary: int,
    accept: Callable[[str], bool] | None = None,
) -> list[str]:
    """The vocabulary, word id order: descending df, then token.

    ``accept``, when given, is a last test on each token within the df bounds.
    """
    low, high = frequency_bounds(min_df, max_df, documents)
    eligible = (
        (-count, token)
        for token, count in document_frequency.items()
        if low <= count <= high and (accept is None or accept(token))
    )
    return [token for _, token in heapq.nsmallest(max_vocabulary, eligible)]
