"""Never fail silently: alarms on every failure signal, to one topic, and a dashboard.

Alarms (5-minute periods, missing data is not breaching, fire at >= 1):

- the state machine's failed, timed-out and aborted executions;
- the depth of every dead-letter queue (an undelivered request or clean-up);
- every function's errors and throttles;
- every rule's failed invocations and events it could not even put in its dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from ntm_tuning import metrics

# The handlers' embedded-metric-format metrics.
METRICS_NAMESPACE = metrics.NAMESPACE
IN_FLIGHT_METRIC = metrics.IN_FLIGHT
OUTCOME_METRIC = metrics.OUTCOME
OUTCOMES = tuple(metrics.OUTCOMES.values())

PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class WatchedRule:
    """A rule whose deliveries are watched; ``bus_name`` is None on the default bus."""

    rule: events.IRule
    bus_name: str | None = None


class Monitoring(Construct):
    """An encrypted, TLS-only alarm topic (with an email subscription if one is configured),
    the alarms, and a dashboard.

    Attributes: ``topic``, ``alarms`` (by construct id), ``dashboard``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey,
        alarm_email: str | None,
        service_name: str,
        state_machine: sfn.StateMachine,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        rules: Mapping[str, WatchedRule],
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="NTM tuning pipeline alarms",
            master_key=key,
            enforce_ssl=True,
        )
        alarms_here = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
        # A topic policy replaces SNS's default one, so CloudWatch must be let in explicitly.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsInThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": alarms_here},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        # CloudWatch publishes to the encrypted topic: SNS asks KMS for data keys on its behalf.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToEncryptedTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"ArnLike": {"aws:SourceArn": alarms_here}},
            )
        )
        if alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        executions = {
            "Failed": state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            "TimedOut": state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            "Aborted": state_machine.metric_aborted(period=PERIOD, statistic="Sum"),
        }
        for name, metric in executions.items():
            self._alarm(f"Executions{name}", metric, f"Tuning workflow executions {name}")
        for name, queue in queues.items():
            self._alarm(
                f"{name}Depth",
                queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                f"Messages waiting in the {name} dead-letter queue",
            )
        for name, function in functions.items():
            label = name.capitalize()
            self._alarm(
                f"{label}Errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                f"The {name} function failed",
            )
            self._alarm(
                f"{label}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"The {name} function was throttled",
            )
        for name, watched in rules.items():
            for metric_name in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
                self._alarm(
                    f"{name}{metric_name}",
                    _rule_metric(watched, metric_name),
                    f"The {name} rule: {metric_name}",
                )

        self.dashboard = self._dashboard(
            service_name=service_name,
            executions=[
                state_machine.metric_started(period=PERIOD, statistic="Sum", label="Started"),
                state_machine.metric_succeeded(period=PERIOD, statistic="Sum", label="Succeeded"),
                *(
                    metric.with_(label=name.replace("TimedOut", "Timed out"))
                    for name, metric in executions.items()
                ),
            ],
            functions=functions,
            queues=queues,
        )

    def _alarm(self, id: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id,
            alarm_description=f"NTM tuning pipeline: {description}",
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms[id] = alarm

    def _dashboard(
        self,
        *,
        service_name: str,
        executions: list[cloudwatch.IMetric],
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
    ) -> cloudwatch.Dashboard:
        def custom(name: str, statistic: str, label: str, **dimensions: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": service_name, **dimensions},
                statistic=statistic,
                period=PERIOD,
                label=label,
            )

        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Executions", left=executions, width=12),
            cloudwatch.GraphWidget(
                title="Tuning jobs in flight",
                left=[custom(IN_FLIGHT_METRIC, "Maximum", "In flight")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Outcomes",
                left=[
                    custom(OUTCOME_METRIC, "Sum", outcome, outcome=outcome) for outcome in OUTCOMES
                ],
                stacked=True,
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues (messages visible)",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, queue in queues.items()
                ],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[
                    function.metric_errors(period=PERIOD, statistic="Sum", label=name)
                    for name, function in functions.items()
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=12, height=6
            ),
        )
        return dashboard


def _rule_metric(watched: WatchedRule, metric_name: str) -> cloudwatch.Metric:
    # Rules on a custom bus report with both dimensions; on the default bus, RuleName only.
    dimensions = {"RuleName": watched.rule.rule_name}
    if watched.bus_name is not None:
        dimensions["EventBusName"] = watched.bus_name
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic="Sum",
        period=PERIOD,
    )
