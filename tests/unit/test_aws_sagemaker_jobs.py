"""The SageMaker side of the handlers (``aws.SageMakerJobs``): each call's API and parameters,
what is read of each response, and throttling turned into the error the workflow retries."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from ntm_tuning.aws import THROTTLING_CODES, SageMakerJobs
from ntm_tuning.errors import SageMakerThrottled


class SageMaker:
    """A stand-in SageMaker client: the operations answered (by their boto3 names), each
    with its responses in order (an exception is raised), recording every call."""

    def __init__(self, **responses: Any) -> None:
        self.responses = {name: list(answers) for name, answers in responses.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        if operation not in self.responses:
            raise AttributeError(operation)

        def call(**kwargs: Any) -> Any:
            self.calls.append((operation, kwargs))
            answer = self.responses[operation].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def jobs_on(fake: SageMaker) -> SageMakerJobs:
    client: Any = fake
    return SageMakerJobs(client)


def throttled(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Rate exceeded"}}, "DescribeX")


def test_create_starts_the_tuning_job_and_gives_its_arn() -> None:
    request = {"HyperParameterTuningJobName": "ntm-a", "Tags": [{"Key": "k", "Value": "v"}]}
    fake = SageMaker(create_hyper_parameter_tuning_job=[{"HyperParameterTuningJobArn": "arn:t"}])
    assert jobs_on(fake).create(request) == "arn:t"
    assert fake.calls == [("create_hyper_parameter_tuning_job", request)]


def test_describe_gives_the_whole_response() -> None:
    response = {"HyperParameterTuningJobStatus": "InProgress", "BestTrainingJob": {"N": 1}}
    fake = SageMaker(describe_hyper_parameter_tuning_job=[response])
    assert jobs_on(fake).describe("ntm-a") == response
    assert fake.calls == [
        ("describe_hyper_parameter_tuning_job", {"HyperParameterTuningJobName": "ntm-a"})
    ]


def test_tags_are_read_as_a_mapping() -> None:
    fake = SageMaker(
        list_tags=[{"Tags": [{"Key": "request-id", "Value": "r-1"}, {"Key": "b", "Value": "2"}]}]
    )
    assert jobs_on(fake).tags("arn:t") == {"request-id": "r-1", "b": "2"}
    assert fake.calls == [("list_tags", {"ResourceArn": "arn:t"})]
    assert jobs_on(SageMaker(list_tags=[{}])).tags("arn:t") == {}


def test_training_jobs_are_read_across_every_page() -> None:
    operation = "list_training_jobs_for_hyper_parameter_tuning_job"
    fake = SageMaker(
        **{
            operation: [
                {
                    "TrainingJobSummaries": [{"TrainingJobName": "a"}, {"TrainingJobName": "b"}],
                    "NextToken": "t-1",
                },
                {"NextToken": "t-2"},  # a page may hold no jobs and still lead on
                {"TrainingJobSummaries": [{"TrainingJobName": "c"}]},
            ]
        }
    )
    jobs = jobs_on(fake).training_jobs("ntm-a")
    assert [job["TrainingJobName"] for job in jobs] == ["a", "b", "c"]
    assert fake.calls == [
        (operation, {"HyperParameterTuningJobName": "ntm-a", "MaxResults": 100}),
        (
            operation,
            {"HyperParameterTuningJobName": "ntm-a", "MaxResults": 100, "NextToken": "t-1"},
        ),
        (
            operation,
            {"HyperParameterTuningJobName": "ntm-a", "MaxResults": 100, "NextToken": "t-2"},
        ),
    ]


def test_a_tuning_job_without_training_jobs_has_none() -> None:
    fake = SageMaker(list_training_jobs_for_hyper_parameter_tuning_job=[{}])
    assert jobs_on(fake).training_jobs("ntm-a") == []


def test_describe_training_job() -> None:
    fake = SageMaker(describe_training_job=[{"TrainingJobStatus": "Completed"}])
    assert jobs_on(fake).describe_training_job("job-1") == {"TrainingJobStatus": "Completed"}
    assert fake.calls == [("describe_training_job", {"TrainingJobName": "job-1"})]


def test_stop_stops_the_tuning_job() -> None:
    fake = SageMaker(stop_hyper_parameter_tuning_job=[{}])
    jobs_on(fake).stop("ntm-a")
    assert fake.calls == [
        ("stop_hyper_parameter_tuning_job", {"HyperParameterTuningJobName": "ntm-a"})
    ]


def test_processing_jobs_are_created_described_and_stopped() -> None:
    fake = SageMaker(
        create_processing_job=[{"ProcessingJobArn": "arn:p"}],
        describe_processing_job=[{"ProcessingJobStatus": "InProgress"}],
        stop_processing_job=[{}],
    )
    jobs = jobs_on(fake)
    assert jobs.create_processing({"ProcessingJobName": "prep-1"}) == "arn:p"
    assert jobs.describe_processing("prep-1") == {"ProcessingJobStatus": "InProgress"}
    jobs.stop_processing("prep-1")
    assert fake.calls == [
        ("create_processing_job", {"ProcessingJobName": "prep-1"}),
        ("describe_processing_job", {"ProcessingJobName": "prep-1"}),
        ("stop_processing_job", {"ProcessingJobName": "prep-1"}),
    ]


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES))
def test_throttling_is_the_error_the_workflow_retries(code: str) -> None:
    error = throttled(code)
    fake = SageMaker(describe_hyper_parameter_tuning_job=[error])
    with pytest.raises(SageMakerThrottled) as raised:
        jobs_on(fake).describe("ntm-a")
    assert str(raised.value) == str(error)
    assert code in str(raised.value)
    assert raised.value.__cause__ is error


def test_any_other_error_is_raised_as_it_is() -> None:
    error = ClientError({"Error": {"Code": "ResourceNotFound", "Message": "no"}}, "DescribeX")
    fake = SageMaker(describe_hyper_parameter_tuning_job=[error])
    with pytest.raises(ClientError) as raised:
        jobs_on(fake).describe("ntm-a")
    assert raised.value is error
