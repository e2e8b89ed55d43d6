"""Never fail silently: alarms on every failure signal, an encrypted TLS-only topic they
notify, an optional email subscription, and the dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk import aws_sns as sns

from infra.pipeline import build_pipeline
from tests.infra.conftest import Synthesized
from tests.infra.helpers import HANDLERS, function_id, render

ALARM_SETTINGS = {
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "Threshold": 1,
    "EvaluationPeriods": 1,
    "Period": 300,
    "TreatMissingData": "notBreaching",
}


def _topic(synthesized: Synthesized) -> str:
    (topic,) = synthesized.resources("AWS::SNS::Topic")
    return topic


def _alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [a["Properties"] for a in synthesized.resources("AWS::CloudWatch::Alarm").values()]


def _alarm_on(
    synthesized: Synthesized, namespace: str, metric: str, dimensions: dict[str, Any]
) -> dict[str, Any]:
    want = sorted(dimensions.items())
    (alarm,) = [
        a
        for a in _alarms(synthesized)
        if a["Namespace"] == namespace
        and a["MetricName"] == metric
        and sorted((d["Name"], d["Value"]) for d in a["Dimensions"]) == want
    ]
    return alarm


def _expected_alarms(synthesized: Synthesized) -> list[tuple[str, str, dict[str, Any], str]]:
    """(namespace, metric, dimensions, statistic) of every alarm the pipeline must have."""
    state_machine = {"Ref": synthesized.logical_id("AWS::StepFunctions::StateMachine")}
    expected: list[tuple[str, str, dict[str, Any], str]] = [
        ("AWS/States", metric, {"StateMachineArn": state_machine}, "Sum")
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
    ]
    for queue in synthesized.resources("AWS::SQS::Queue"):
        expected.append(
            (
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}},
                "Maximum",
            )
        )
    for name in HANDLERS:
        function = {"Ref": function_id(synthesized, name)}
        for metric in ("Errors", "Throttles"):
            expected.append(("AWS/Lambda", metric, {"FunctionName": function}, "Sum"))
    for rule_id, rule in synthesized.resources("AWS::Events::Rule").items():
        dimensions = {"RuleName": {"Ref": rule_id}}
        if "EventBusName" in rule["Properties"]:
            # Rules on a custom bus report their metrics with the bus name too.
            dimensions["EventBusName"] = synthesized.json["Outputs"]["ResultsBusName"]["Value"]
        for metric in ("FailedInvocations", "InvocationsFailedToBeSentToDlq"):
            expected.append(("AWS/Events", metric, dimensions, "Sum"))
    return expected


def test_an_alarm_for_every_failure_signal(synthesized: Synthesized) -> None:
    expected = _expected_alarms(synthesized)
    for namespace, metric, dimensions, statistic in expected:
        alarm = _alarm_on(synthesized, namespace, metric, dimensions)
        assert {k: alarm[k] for k in ALARM_SETTINGS} == ALARM_SETTINGS, (metric, dimensions)
        assert alarm["Statistic"] == statistic
        assert alarm["AlarmDescription"].startswith("NTM tuning pipeline: ")
    assert len(_alarms(synthesized)) == len(expected)


def test_every_alarm_notifies_the_topic(synthesized: Synthesized) -> None:
    topic = {"Ref": _topic(synthesized)}
    for alarm in _alarms(synthesized):
        assert alarm["AlarmActions"] == [topic], alarm["MetricName"]


def test_topic_is_encrypted_with_the_key(synthesized: Synthesized) -> None:
    (key,) = synthesized.resources("AWS::KMS::Key")
    topic = synthesized.json["Resources"][_topic(synthesized)]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert synthesized.json["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": _topic(synthesized)}


def test_topic_policy_is_tls_only_and_admits_this_accounts_alarms(
    synthesized: Synthesized,
) -> None:
    topic = {"Ref": _topic(synthesized)}
    (policy,) = synthesized.resources("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [topic]
    statements = [
        {k: v for k, v in s.items() if k != "Sid"}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": topic,
    } in statements
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Resource"] == topic
    assert render(allow["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    )
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_no_subscription_without_an_alarm_email(synthesized: Synthesized) -> None:
    assert synthesized.config.alarm_email is None
    assert not synthesized.resources("AWS::SNS::Subscription")


def test_an_alarm_email_subscribes_to_the_topic(cdk_context: dict[str, Any]) -> None:
    # Built, not synthesized: the construct tree is enough, and synth costs seconds.
    stack = build_pipeline(App(context={**cdk_context, "ntm:alarmEmail": "ops@example.com"}))
    subscriptions = [c for c in stack.node.find_all() if isinstance(c, sns.CfnSubscription)]
    (subscription,) = subscriptions
    assert subscription.protocol == "email"
    assert subscription.endpoint == "ops@example.com"
    topics = [c for c in stack.node.find_all() if isinstance(c, sns.CfnTopic)]
    (topic,) = topics
    assert stack.resolve(subscription.topic_arn) == stack.resolve(topic.ref)


# -- the dashboard -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dashboard(synthesized: Synthesized) -> dict[str, Any]:
    (board_id, board) = next(iter(synthesized.resources("AWS::CloudWatch::Dashboard").items()))
    assert len(synthesized.resources("AWS::CloudWatch::Dashboard")) == 1
    assert synthesized.json["Outputs"]["DashboardName"]["Value"] == {"Ref": board_id}
    body: dict[str, Any] = json.loads(render(board["Properties"]["DashboardBody"]))
    return body


def _graphs(dashboard: dict[str, Any]) -> dict[str, list[list[Any]]]:
    return {
        w["properties"]["title"]: w["properties"]["metrics"]
        for w in dashboard["widgets"]
        if w["type"] == "metric"
    }


def test_dashboard_executions(synthesized: Synthesized, dashboard: dict[str, Any]) -> None:
    state_machine = f"${{{synthesized.logical_id('AWS::StepFunctions::StateMachine')}}}"
    metrics = _graphs(dashboard)["Executions"]
    assert [m[:4] for m in metrics] == [
        ["AWS/States", f"Executions{name}", "StateMachineArn", state_machine]
        for name in ("Started", "Succeeded", "Failed", "TimedOut", "Aborted")
    ]
    assert all(m[4]["stat"] == "Sum" for m in metrics)


def test_dashboard_custom_metrics(dashboard: dict[str, Any]) -> None:
    graphs = _graphs(dashboard)
    assert graphs["Tuning jobs in flight"] == [
        [
            "NtmTuning",
            "TuningJobsInFlight",
            "service",
            "ntm-tuning",
            {"label": "In flight", "stat": "Maximum"},
        ]
    ]
    outcomes = graphs["Outcomes"]
    assert outcomes == [
        ["NtmTuning", "Outcome", "outcome", o, "service", "ntm-tuning", {"label": o, "stat": "Sum"}]
        for o in ("Succeeded", "Rejected", "Failed", "Stopped")
    ]


def test_dashboard_dead_letter_queues_and_errors(
    synthesized: Synthesized, dashboard: dict[str, Any]
) -> None:
    graphs = _graphs(dashboard)
    depths = graphs["Dead-letter queues (messages visible)"]
    assert {m[3] for m in depths} == {
        f"${{{q}.QueueName}}" for q in synthesized.resources("AWS::SQS::Queue")
    }
    assert all(
        m[:3] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"] for m in depths
    )
    errors = graphs["Lambda errors"]
    assert {m[3] for m in errors} == {f"${{{function_id(synthesized, n)}}}" for n in HANDLERS}
    assert all(m[:3] == ["AWS/Lambda", "Errors", "FunctionName"] for m in errors)
    (alarm_widget,) = [w for w in dashboard["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(_alarms(synthesized))
