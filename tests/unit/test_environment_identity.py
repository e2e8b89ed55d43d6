"""An invocation's environment compares by its variables, not by its hash alone."""

from __future__ import annotations

from ntm_tuning.environment import Environment


def test_equal_hashes_with_other_variables_are_other_environments() -> None:
    first, other = Environment({"A": "1"}), Environment({"A": "2"})
    # A hash collision: the hashes agree, the variables do not.
    other._hash = first._hash
    assert hash(first) == hash(other)
    assert first != other


def test_an_environment_compares_with_environments_only() -> None:
    assert Environment({"A": "1"}) != {"A": "1"}
    assert Environment({"A": "1"}).__eq__({"A": "1"}) is NotImplemented


def test_its_repr_names_the_variables_not_their_values() -> None:
    environment = Environment({"SECRET_NAME": "value-1", "BUCKET": "b"})
    assert repr(environment) == "Environment(['BUCKET', 'SECRET_NAME'])"
    assert list(environment) == ["SECRET_NAME", "BUCKET"]
    assert environment["BUCKET"] == "b"


def test_other_variables_hash_apart() -> None:
    # Each environment's cached values sit under its hash: one hash for all would make every
    # lookup a scan of every environment seen.
    hashes = {hash(Environment({"FUNCTION": f"f-{n}"})) for n in range(8)}
    assert len(hashes) == 8
