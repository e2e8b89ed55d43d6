"""What starts the workflow: a request file landing in S3, or a request event on the bus."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from ntm_tuning.events import REQUESTED

# EventBridge retries a delivery it could not make (throttling, an unavailable target) for up
# to a day, then puts the event in the dead-letter queue instead of dropping it.
MAX_EVENT_AGE = Duration.hours(24)
RETRY_ATTEMPTS = 185  # EventBridge's maximum (and default)


class Triggers(Construct):
    """Two rules that start the state machine with a normalized delivery document.

    Attributes: ``request_uploaded`` (default bus, S3 Object Created under the request
    prefix), ``request_event`` (results bus, ``NTM Tuning Requested`` from other sources).
    A request that cannot be delivered goes to ``dead_letter_queue``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.IStateMachine,
        data_bucket: s3.IBucket,
        request_prefix: str,
        results_bus: events.IEventBus,
        event_source: str,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        field = events.EventField.from_path

        def start_workflow(input: events.RuleTargetInput) -> targets.SfnStateMachine:
            return targets.SfnStateMachine(
                state_machine,
                input=input,
                dead_letter_queue=dead_letter_queue,
                max_event_age=MAX_EVENT_AGE,
                retry_attempts=RETRY_ATTEMPTS,
            )

        self.request_uploaded = events.Rule(
            self,
            "RequestUploaded",
            description="Starts a tuning workflow for each request file written to the data bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [data_bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(f"{request_prefix}*.json")},
                },
            ),
        )
        self.request_uploaded.add_target(
            start_workflow(
                events.RuleTargetInput.from_object(
                    {
                        "origin": "s3",
                        "event_id": field("$.id"),
                        "event_time": field("$.time"),
                        "bucket": field("$.detail.bucket.name"),
                        "key": field("$.detail.object.key"),
                        "version_id": field("$.detail.object.version-id"),
                        "etag": field("$.detail.object.etag"),
                    }
                )
            )
        )

        # Our own publications never start a workflow, even if one reused the detail type.
        self.request_event = events.Rule(
            self,
            "RequestEvent",
            description="Starts a tuning workflow for each tuning request event on the bus",
            event_bus=results_bus,
            event_pattern=events.EventPattern(
                detail_type=[REQUESTED],
                source=events.Match.anything_but(event_source),
            ),
        )
        self.request_event.add_target(
            start_workflow(
                events.RuleTargetInput.from_object(
                    {
                        "origin": "event",
                        "event_id": field("$.id"),
                        "event_time": field("$.time"),
                        "source": field("$.source"),
                        "request": field("$.detail"),
                    }
                )
            )
        )
