"""No tuning job left running unwatched: executions that end early are cleaned up.

Step Functions reports every status change of a standard execution on the default bus. An
execution that was aborted, timed out or failed may have left a tuning job (or a dataset
preparation processing job) running and a job slot taken; the clean-up function stops the one
and frees the other.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.dead_letters import DeadLetterQueues

ENDED_EARLY = ("ABORTED", "TIMED_OUT", "FAILED")
# Delivery from the rule to the function: EventBridge retries (throttling, service errors)
# for up to a day, then the event goes to the dead-letter queue.
RULE_MAX_EVENT_AGE = Duration.hours(24)
RULE_RETRY_ATTEMPTS = 10
# The function's own failures (it is invoked asynchronously): Lambda retries twice, then
# hands the invocation record to the on-failure destination.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = Duration.hours(6)


class OrphanCleanup(Construct):
    """A default-bus rule that sends the execution status change event, whole, to ``function``.

    Attributes: ``rule``, ``invoke_config``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.IStateMachine,
        function: lambda_.IFunction,
        dead_letters: DeadLetterQueues,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "ExecutionEndedEarly",
            description=(
                "Cleans up after tuning workflow executions that were aborted, timed out or failed"
            ),
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [state_machine.state_machine_arn],
                    "status": list(ENDED_EARLY),
                },
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letter_queue,
                max_event_age=RULE_MAX_EVENT_AGE,
                retry_attempts=RULE_RETRY_ATTEMPTS,
            )
        )

        # The L1 resource, because lambda_destinations.SqsDestination grants with
        # `queue.grant_send_messages`, whose KMS actions are wildcards (kms:GenerateDataKey*).
        dead_letters.grant_send(function, dead_letter_queue)
        self.invoke_config = lambda_.CfnEventInvokeConfig(
            self,
            "AsyncInvokeConfig",
            function_name=function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=int(ASYNC_MAX_EVENT_AGE.to_seconds()),
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=dead_letter_queue.queue_arn
                )
            ),
        )
        # Lambda checks the destination permission when the configuration is created.
        if function.role is not None:
            self.invoke_config.node.add_dependency(function.role)
