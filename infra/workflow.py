"""The Step Functions workflow: validate, (prepare the dataset,) admit, start, watch,
summarize, publish, release."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct
from ntm_tuning import states
from ntm_tuning.errors import EventPublishFailed, LedgerThrottled, SageMakerThrottled
from ntm_tuning.events import FAILED, REJECTED, STOPPED, SUCCEEDED
from ntm_tuning.state import REQUEST_FIELDS, Outcome, path

from infra.log_groups import encrypted_log_group
from infra.nag import acknowledge, arn_ref

# Step Functions sees a Python handler's exception as an error named after its class.
SAGEMAKER_THROTTLED = SageMakerThrottled.__name__
EVENT_PUBLISH_FAILED = EventPublishFailed.__name__
LEDGER_THROTTLED = LedgerThrottled.__name__
EXECUTION_ID = "$$.Execution.Id"


def at(*fields: str) -> Any:
    """The value at a field of the workflow's state (``ntm_tuning.state.WorkflowState``), the
    path checked against its model."""
    return sfn.JsonPath.object_at(path(*fields))


def request_block() -> dict[str, Any]:
    """Which request the execution serves, as the handlers' ``RequestRef`` reads it."""
    return {name: at(name) for name in REQUEST_FIELDS}


class TuningWorkflow(Construct):
    """A standard state machine that polls the tuning job until it ends or its deadline passes.

    A request is claimed in the ledger when it is validated (a second delivery of it ends as
    ``Duplicate delivery``). A corpus request first runs a dataset preparation (SageMaker
    Processing) job, watched like the tuning job, and the tuning job is then built from the
    dataset it wrote (or the request is rejected if the dataset is unusable). The execution then
    waits for one of the configured concurrent
    job slots, starts the job, watches it, publishes the outcome and gives the slot back on
    every path that started to run. An execution that dies before that (aborted, timed out,
    failed) is handled by the orphan clean-up rule, outside the state machine.

    State names are a contract with the offline workflow tests; keep them verbatim.

    Attributes: ``state_machine``, ``log_group``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        poll_interval_seconds: int,
        capacity_wait_seconds: int,
        key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)

        invoked: list[lambda_.IFunction] = []

        def invoke(name: str, handler: str, **options: Any) -> tasks.LambdaInvoke:
            """A state that calls one of the handlers; its result is the handler's return."""
            invoked.append(functions[handler])
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=functions[handler],
                payload_response_only=True,
                **options,
            )

        def publisher(name: str, detail_type: str, given: Any) -> tasks.LambdaInvoke:
            """A "Publish ..." state: ``given`` is what its event is built from
            (``ntm_tuning.state.OutcomeState``)."""
            task = invoke(
                name,
                "publish_outcome",
                payload=sfn.TaskInput.from_object(
                    {
                        "detail_type": detail_type,
                        "state": given,
                        "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                    }
                ),
                result_path=path("published"),
            )
            task.add_retry(
                errors=[EVENT_PUBLISH_FAILED],
                interval=Duration.seconds(1),
                backoff_rate=2,
                max_attempts=5,
                jitter_strategy=sfn.JitterType.FULL,
            )
            return task

        def retry(task: tasks.LambdaInvoke, error: str, interval: int) -> tasks.LambdaInvoke:
            """Back off exponentially, with full jitter, on a service asking us to slow down."""
            task.add_retry(
                errors=[error],
                interval=Duration.seconds(interval),
                backoff_rate=2.0,
                max_attempts=6,
                jitter_strategy=sfn.JitterType.FULL,
            )
            return task

        def retry_throttling(task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
            return retry(task, SAGEMAKER_THROTTLED, 5)

        def retry_ledger_throttling(task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
            return retry(task, LEDGER_THROTTLED, 2)

        # Every path that may hold a job slot ends here: give it back (a no-op if the
        # execution holds none), then end as the published outcome says. A release that
        # fails does not change the outcome; its function's error alarm reports it.
        duplicate_delivery = sfn.Succeed(self, "Duplicate delivery")
        published = path("published", "detail_type")
        outcome = (
            sfn.Choice(self, "Outcome")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(path("start", "duplicate")),
                    sfn.Condition.boolean_equals(path("start", "duplicate"), True),
                ),
                duplicate_delivery,
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(published),
                    sfn.Condition.string_equals(published, SUCCEEDED),
                ),
                sfn.Succeed(self, "Tuning job succeeded"),
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present(published),
                    sfn.Condition.string_equals(published, STOPPED),
                ),
                sfn.Fail(self, "Tuning job stopped", error="TuningJobStopped"),
            )
            .otherwise(sfn.Fail(self, "Tuning failed", error="TuningFailed"))
        )
        release_capacity = retry_ledger_throttling(
            invoke(
                "Release capacity",
                "release_capacity",
                payload=sfn.TaskInput.from_object(
                    {"execution_id": sfn.JsonPath.string_at(EXECUTION_ID)}
                ),
                result_path=path("release"),
            )
        )
        release_capacity.add_catch(
            outcome, errors=[sfn.Errors.ALL], result_path=path("release_error")
        )
        release_capacity.next(outcome)

        # A failure is caught from every state, validation's included (where the state is still
        # the delivery, and a path absent from it would fail the publisher): the whole state.
        publish_failure = publisher("Publish failure", FAILED, sfn.JsonPath.entire_payload).next(
            release_capacity
        )
        publish_rejection = publisher(
            "Publish rejection", REJECTED, {"rejection": at("rejection")}
        ).next(sfn.Succeed(self, "Request rejected"))
        # Reached only from "Tuning job status", once the job has started.
        publish_stopped = publisher(
            "Publish stopped",
            STOPPED,
            {
                **request_block(),
                "tuning_job_name": at("tuning_job_name"),
                "start": at("start"),
                "job": at("job"),
            },
        ).next(release_capacity)
        publish_success = publisher(
            "Publish success",
            SUCCEEDED,
            {"result": at("result"), "start": at("start")},
        ).next(release_capacity)

        def on_error(task: tasks.LambdaInvoke) -> tasks.LambdaInvoke:
            task.add_catch(publish_failure, errors=[sfn.Errors.ALL], result_path=path("error"))
            return task

        # Every state whose function calls SageMaker retries its throttling (warm-start parents
        # are described at validation and when the tuning job is built).
        validate_request = on_error(
            retry_throttling(
                invoke(
                    "Validate request",
                    "validate_request",
                    payload=sfn.TaskInput.from_object(
                        {
                            "delivery": sfn.JsonPath.entire_payload,
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                        }
                    ),
                    result_path="$",
                )
            )
        )
        acquire_capacity = on_error(
            retry_ledger_throttling(
                invoke(
                    "Acquire capacity",
                    "acquire_capacity",
                    payload=sfn.TaskInput.from_object(
                        {
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                            "request_id": at("request_id"),
                            "tuning_job_name": at("tuning_job_name"),
                        }
                    ),
                    result_path=path("admission"),
                )
            )
        )
        wait_for_capacity = sfn.Wait(
            self,
            states.WAIT_FOR_CAPACITY,
            time=sfn.WaitTime.duration(Duration.seconds(capacity_wait_seconds)),
        )
        start_job = on_error(
            retry_throttling(
                invoke(
                    "Start tuning job",
                    "start_tuning_job",
                    payload=sfn.TaskInput.from_object(
                        {
                            "tuning_job_name": at("tuning_job_name"),
                            "create_request": at("create_request"),
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                            "request": request_block(),
                        }
                    ),
                    result_path=path("start"),
                )
            )
        )
        wait = sfn.Wait(
            self,
            states.WAIT_FOR_TUNING_JOB,
            time=sfn.WaitTime.duration(Duration.seconds(poll_interval_seconds)),
        )
        describe_job = on_error(
            retry_throttling(
                invoke(
                    states.DESCRIBE_TUNING_JOB,
                    "describe_tuning_job",
                    payload=sfn.TaskInput.from_object(
                        {
                            "tuning_job_name": at("tuning_job_name"),
                            "watch_deadline": at("watch_deadline"),
                            # For the progress events: the last one published is kept in the
                            # ledger, under this execution.
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                            "request": request_block(),
                            "cost_estimate": at("cost_estimate"),
                        }
                    ),
                    result_path=path("job"),
                )
            )
        )
        stop_job = on_error(
            retry_throttling(
                invoke(
                    "Stop tuning job",
                    "stop_tuning_job",
                    payload=sfn.TaskInput.from_object({"tuning_job_name": at("tuning_job_name")}),
                    result_path=path("stop"),
                )
            )
        )
        summarize_results = on_error(
            retry_throttling(
                invoke(
                    "Summarize results",
                    "summarize_results",
                    # What the summary reads of the plan (``SummarizeInput``), not the
                    # tuning job's whole request.
                    payload=sfn.TaskInput.from_object(
                        {
                            **request_block(),
                            "tuning_job_name": at("tuning_job_name"),
                            "static_hyperparameters": at("static_hyperparameters"),
                            "strategy": at("strategy"),
                            "vocabulary_uri": at("vocabulary_uri"),
                            "cost_estimate": at("cost_estimate"),
                            "dataset": at("dataset"),
                        }
                    ),
                    result_path=path("result"),
                )
            )
        )

        job_status_path = path("job", "status")
        job_status = (
            sfn.Choice(self, states.TUNING_JOB_STATUS)
            .when(
                sfn.Condition.string_equals(job_status_path, "Completed"),
                summarize_results.next(publish_success),
            )
            .when(sfn.Condition.string_equals(job_status_path, "Failed"), publish_failure)
            .when(sfn.Condition.string_equals(job_status_path, "Stopped"), publish_stopped)
            .when(
                sfn.Condition.boolean_equals(path("job", "deadline_passed"), True),
                stop_job.next(publish_failure),
            )
            .otherwise(wait)
        )
        watch = wait.next(describe_job).next(job_status)
        # SageMaker's own limits (ResourceLimitExceeded) send the execution back to waiting;
        # the start step has then given its slot back.
        job_started = (
            sfn.Choice(self, "Job started?")
            .when(
                sfn.Condition.boolean_equals(path("start", "capacity_exhausted"), True),
                wait_for_capacity,
            )
            .when(sfn.Condition.boolean_equals(path("start", "duplicate"), True), release_capacity)
            .otherwise(watch)
        )
        capacity_available = (
            sfn.Choice(self, "Capacity available?")
            .when(
                sfn.Condition.boolean_equals(path("admission", "admitted"), True),
                start_job.next(job_started),
            )
            .otherwise(wait_for_capacity.next(acquire_capacity))
        )
        acquire_capacity.next(capacity_available)

        # Dataset preparation: a corpus request's dataset is made by a processing job first.
        start_preparation = on_error(
            retry_throttling(
                invoke(
                    "Start dataset preparation",
                    "start_dataset_preparation",
                    payload=sfn.TaskInput.from_object(
                        {
                            "preparation": at("preparation"),
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                            # Recorded with the job, so the clean-up of an execution that ends
                            # early can say which request it was.
                            "request": request_block(),
                        }
                    ),
                    result_path=path("preparation_job"),
                )
            )
        )
        wait_for_preparation = sfn.Wait(
            self,
            states.WAIT_FOR_PREPARATION,
            time=sfn.WaitTime.duration(Duration.seconds(poll_interval_seconds)),
        )
        describe_preparation = on_error(
            retry_throttling(
                invoke(
                    states.DESCRIBE_PREPARATION,
                    "describe_dataset_preparation",
                    payload=sfn.TaskInput.from_object(
                        {"processing_job_name": at("preparation", "processing_job_name")}
                    ),
                    result_path=path("preparation_status"),
                )
            )
        )
        # Returns a whole state, as validation does: accepted (with the tuning job's request)
        # or rejected (the dataset is unusable). It reads the request and the preparation's
        # plan (``BuildInput``).
        build_tuning_job = on_error(
            retry_throttling(
                invoke(
                    "Build tuning job",
                    "build_tuning_job",
                    payload=sfn.TaskInput.from_object(
                        {
                            "request": request_block(),
                            "preparation": at("preparation"),
                            "execution_id": sfn.JsonPath.string_at(EXECUTION_ID),
                        }
                    ),
                    result_path="$",
                )
            )
        )
        outcome_path = path("outcome")
        dataset_usable = (
            sfn.Choice(self, "Dataset usable?")
            .when(
                sfn.Condition.string_equals(outcome_path, Outcome.REJECTED.value), publish_rejection
            )
            .otherwise(acquire_capacity)
        )
        preparation_status = path("preparation_status", "status")
        preparation_done = (
            sfn.Choice(self, states.PREPARATION_STATUS)
            .when(
                sfn.Condition.string_equals(preparation_status, "Completed"),
                build_tuning_job.next(dataset_usable),
            )
            .when(sfn.Condition.string_equals(preparation_status, "Failed"), publish_failure)
            .when(sfn.Condition.string_equals(preparation_status, "Stopped"), publish_failure)
            .otherwise(wait_for_preparation)
        )
        start_preparation.next(wait_for_preparation).next(describe_preparation).next(
            preparation_done
        )

        accepted = (
            sfn.Choice(self, "Request accepted?")
            .when(
                sfn.Condition.string_equals(outcome_path, Outcome.REJECTED.value), publish_rejection
            )
            .when(
                sfn.Condition.string_equals(outcome_path, Outcome.IGNORED.value),
                sfn.Succeed(self, "Not a tuning request"),
            )
            .when(
                sfn.Condition.string_equals(outcome_path, Outcome.DUPLICATE.value),
                duplicate_delivery,
            )
            .when(
                sfn.Condition.string_equals(outcome_path, Outcome.PREPARE.value), start_preparation
            )
            .otherwise(acquire_capacity)
        )

        self.log_group = encrypted_log_group(
            self,
            "LogGroup",
            key=key,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="Runs one NTM hyperparameter tuning job per request and publishes the result",
            definition_body=sfn.DefinitionBody.from_chainable(validate_request.next(accepted)),
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
            tracing_enabled=True,
        )

        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5",
            reason=(
                "Step Functions' Lambda task grant covers each function and its version/alias "
                "qualifiers (`<arn>:*`); only the functions this workflow's states invoke."
            ),
            findings=[f"Resource::{arn_ref(fn)}:*" for fn in dict.fromkeys(invoked)],
        )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5",
            reason=(
                "Execution logging (logs:CreateLogDelivery and related calls) and X-Ray tracing "
                "support no resource-level permissions, so their resource is '*'."
            ),
            findings=["Resource::*"],
        )
