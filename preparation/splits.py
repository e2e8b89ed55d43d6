"""Which split a document belongs to, from its id alone.

``u`` is the first 8 bytes of SHA-256 over the salt and the document id, read as a big-endian
integer and divided by 2**64, a uniform number in [0, 1). A document is in ``test`` when
``u < test_ratio``, in ``validation`` when ``u < test_ratio + validation_ratio``, else in
``train``. The hashed bytes are the salt's UTF-8 length as 8 big-endian bytes, the salt, then
the id, so that no salt and id pair can be mistaken for another. The assignment of a document
never depends on the rest of the corpus: adding files moves nobody, and a document that appears
twice under the same id is in the same split both times.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")
_SCALE = float(1 << 64)


class SplitAssigner:
    def __init__(self, validation_ratio: float, test_ratio: float, salt: str = "") -> None:
        if validation_ratio < 0 or test_ratio < 0 or validation_ratio + test_ratio >= 1:
            raise ValueError("ratios must be >= 0 and sum to less than 1")
        # UTF-8 (str.encode's default); lone surrogates, as a CSV cell with undecodable bytes
        # holds them, are encoded rather than refused.
        salt_bytes = salt.encode(errors="surrogatepass")
        # "big" is required on Python 3.9 (the Processing image) and the default since 3.11.
        length = len(salt_bytes).to_bytes(8, "big")  # pragma: no mutate
        self._prefix = hashlib.sha256(length + salt_bytes)
        self._test = test_ratio
        self._held_out = test_ratio + validation_ratio

    def uniform(self, document_id: str) -> float:
        digest = self._prefix.copy()
        digest.update(document_id.encode(errors="surrogatepass"))
        # "big" is required on Python 3.9 (the Processing image) and the default since 3.11.
        return int.from_bytes(digest.digest()[:8], "big") / _SCALE  # pragma: no mutate

    def __call__(self, document_id: str) -> str:
        u = self.uniform(document_id)
        if u < self._test:
            return "test"
        if u < self._held_out:
            return "validation"
        return "train"
