"""The one seam for the handlers' AWS clients: ``aws.use_clients``."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from ntm_tuning import aws
from ntm_tuning.handlers import _runtime


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()


class Stand:
    """A stand-in client: enough for identity checks."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_without_a_provider_each_service_gets_one_boto3_client() -> None:
    s3 = aws.client("s3")
    assert aws.client("s3") is s3
    assert s3.meta.service_model.service_name == "s3"
    assert s3.meta.config.retries["mode"] == "standard"


def test_a_provider_answers_for_its_services_and_leaves_the_others() -> None:
    default_events = aws.client("events")
    sagemaker, outer_events = Stand("sagemaker"), Stand("events")
    with aws.use_clients({"events": outer_events}.get):
        assert aws.client("events") is outer_events
        with aws.use_clients({"sagemaker": sagemaker}.get):
            assert aws.client("sagemaker") is sagemaker
            # The inner provider answers None for events: the outer one's stands.
            assert aws.client("events") is outer_events
            assert aws.client("s3").meta.service_model.service_name == "s3"
        assert aws.client("sagemaker") is not sagemaker
        assert aws.client("events") is outer_events
    events = aws.client("events")
    assert events is not outer_events and events is not default_events
    assert events.meta.service_model.service_name == "events"


def test_the_same_provider_nested_twice_leaves_in_order() -> None:
    first = Stand("first")
    provider = {"sagemaker": first}.get
    with aws.use_clients(provider):
        with aws.use_clients({"sagemaker": None}.get), aws.use_clients(provider):
            assert aws.client("sagemaker") is first
        assert aws.client("sagemaker") is first
    assert not isinstance(aws.client("sagemaker"), Stand)


def test_a_provider_is_left_on_error() -> None:
    with pytest.raises(RuntimeError), aws.use_clients({"s3": Stand("s3")}.get):
        raise RuntimeError("boom")
    assert not isinstance(aws.client("s3"), Stand)


def test_the_handlers_adapters_use_the_provided_clients() -> None:
    sagemaker, events = Stand("sagemaker"), Stand("events")
    with aws.use_clients({"sagemaker": sagemaker, "events": events}.get):
        _runtime.reset()
        assert _runtime.tuning_jobs().sagemaker is sagemaker
        assert _runtime.sagemaker_client() is sagemaker
        assert _runtime.events_client() is events
    _runtime.reset()
    assert not isinstance(_runtime.sagemaker_client(), Stand)


def test_every_thread_sees_the_provided_client() -> None:
    sagemaker = Stand("sagemaker")
    seen: list[object] = []
    with aws.use_clients({"sagemaker": sagemaker}.get):
        threads = [threading.Thread(target=lambda: seen.append(aws.client("sagemaker")))]
        for thread in threads:
            thread.start()
            thread.join()
    assert seen == [sagemaker]
