"""Each invocation's environment: its own variables, in its own thread, cached for it alone."""

from __future__ import annotations

import threading

import pytest
from ntm_tuning import environment
from ntm_tuning.environment import Environment, per_environment, use, variables


def test_outside_an_invocation_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROBE_VARIABLE", "process")
    assert variables()["PROBE_VARIABLE"] == "process"
    with use({"PROBE_VARIABLE": "invocation"}) as inside:
        assert variables() is inside
        assert dict(variables()) == {"PROBE_VARIABLE": "invocation"}
        with use({}):
            assert "PROBE_VARIABLE" not in variables()
        assert variables()["PROBE_VARIABLE"] == "invocation"
    assert variables()["PROBE_VARIABLE"] == "process"


def test_environments_compare_by_their_variables() -> None:
    first, again = Environment({"A": "1", "B": "2"}), Environment({"B": "2", "A": "1"})
    assert first == again and hash(first) == hash(again)
    assert first != Environment({"A": "1", "B": "3"})
    assert first != Environment({"A": "1"})
    assert dict(first) == {"A": "1", "B": "2"} and len(first) == 2


def test_concurrent_invocations_each_see_their_own_variables() -> None:
    names = [f"function-{n}" for n in range(8)]
    barrier = threading.Barrier(len(names))
    seen: dict[str, list[str | None]] = {}

    def invoke(name: str) -> None:
        with use({"FUNCTION": name}):
            first = variables().get("FUNCTION")
            barrier.wait(timeout=10)  # every thread is inside its own block now
            seen[name] = [first, variables().get("FUNCTION")]

    threads = [threading.Thread(target=invoke, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {name: [name, name] for name in names}


def test_per_environment_caches_once_for_each_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str | None] = []

    @per_environment
    def bucket() -> str | None:
        calls.append(variables().get("BUCKET"))
        return variables().get("BUCKET")

    monkeypatch.setenv("BUCKET", "process-bucket")
    assert bucket() == bucket() == "process-bucket"
    with use({"BUCKET": "a"}):
        assert bucket() == bucket() == "a"
    with use({"BUCKET": "b"}):
        assert bucket() == "b"
    # An equal environment given again is the same environment: no new call.
    with use({"BUCKET": "a"}):
        assert bucket() == "a"
    assert bucket() == "process-bucket"
    assert calls == ["process-bucket", "a", "b"]
    bucket.cache_clear()
    monkeypatch.setenv("BUCKET", "changed")
    assert bucket() == "changed"
    assert bucket.__wrapped__.__name__ == "bucket"  # type: ignore[attr-defined]


def test_the_handlers_settings_follow_the_invocation() -> None:
    from ntm_tuning.settings import load_settings

    from tests.settings_factory import environment as stack_environment

    load_settings.cache_clear()
    first = {**stack_environment(), "DATA_BUCKET": "first-function-bucket"}
    second = {**stack_environment(), "DATA_BUCKET": "second-function-bucket"}
    with use(first):
        assert load_settings().data_bucket == "first-function-bucket"
    with use(second):
        assert load_settings().data_bucket == "second-function-bucket"
    with use(first):
        assert load_settings() is load_settings()
    assert environment.variables() is __import__("os").environ
