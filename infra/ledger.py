"""The request ledger: a DynamoDB table of request claims, capacity slots and started jobs.

The handlers own the item layout (``ntm_tuning.ledger``); the stack only needs its key
(``pk``), its TTL attribute and which operations each handler performs.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "expires_at"

# What DynamoDB needs from the caller's side to use a table encrypted with a customer managed
# key; allowed only through DynamoDB (kms:ViaService), so the grant cannot be used directly.
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


class LedgerTable(Construct):
    """An on-demand table keyed by ``pk`` only, encrypted with the pipeline's key, with
    point-in-time recovery and items that expire at ``expires_at`` (epoch seconds).

    Attributes: ``table``.
    """

    def __init__(
        self, scope: Construct, id: str, *, key: kms.IKey, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id)
        self._key = key
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(
                name=PARTITION_KEY, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=removal_policy,
        )

    def grant(self, function: lambda_.IFunction, actions: Sequence[str]) -> None:
        """Exactly ``actions`` (e.g. ``dynamodb:GetItem``) on the table, and its key via DynamoDB.

        CDK's ``grant_read_write_data`` would add batch, query and scan actions and
        ``kms:GenerateDataKey*``-style wildcards; the handlers need single-item operations only.
        """
        if not actions or not all(a.startswith("dynamodb:") and "*" not in a for a in actions):
            raise ValueError(f"expected exact dynamodb actions, got {list(actions)}")
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(actions), resources=[self.table.table_arn])
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(TABLE_KEY_ACTIONS),
                resources=[self._key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"dynamodb.{Aws.REGION}.{Aws.URL_SUFFIX}"}
                },
            )
        )
