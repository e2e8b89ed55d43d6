"""Dead-letter queues: where deliveries that could not be made are kept, never dropped.

Encryption: the queues use the pipeline's customer managed key (not SQS-managed SSE). That
works for EventBridge as the sender only because the key policy lets `events.amazonaws.com`
generate and decrypt data keys for this account's rules (SQS calls KMS on the sender's
behalf); without that statement EventBridge could not write to the queue and the events
would be lost (the rules' ``InvocationsFailedToBeSentToDlq`` alarms would say so). Lambda's
on-failure destination writes with the function's own role, which gets the key through SQS.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge

RETENTION = Duration.days(14)  # the longest SQS keeps a message
# What a sender needs for a queue encrypted with a customer managed key.
SEND_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class DeadLetterQueues(Construct):
    """Creates the pipeline's dead-letter queues and lets EventBridge write to them.

    Attributes: ``queues`` (by construct id), filled by :meth:`queue`.
    """

    def __init__(
        self, scope: Construct, id: str, *, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id)
        self._key = key
        self._removal_policy = removal_policy
        self.queues: dict[str, sqs.Queue] = {}
        # The rule ARNs cannot be named here without a dependency cycle (rule -> state machine
        # -> key), so the condition admits this account's rules in this region.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeDeadLetterQueuesInThisAccount",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=list(SEND_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:rule/*"
                        )
                    },
                },
            )
        )

    def queue(self, id: str, *, purpose: str) -> sqs.Queue:
        """A KMS-encrypted, TLS-only queue keeping messages for 14 days."""
        queue = sqs.Queue(
            self,
            id,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self._key,
            enforce_ssl=True,
            retention_period=RETENTION,
            removal_policy=self._removal_policy,
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            reason=(
                f"This queue is itself a dead-letter queue ({purpose}); its messages are "
                "inspected and redriven by an operator, alerted by its depth alarm, so a "
                "further dead-letter queue would add nothing."
            ),
        )
        self.queues[id] = queue
        return queue

    def grant_send(self, function: lambda_.IFunction, queue: sqs.IQueue) -> None:
        """SendMessage on ``queue`` (e.g. a Lambda on-failure destination), exactly."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(SEND_KEY_ACTIONS),
                resources=[self._key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.{Aws.URL_SUFFIX}"}
                },
            )
        )
