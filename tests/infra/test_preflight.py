"""`make preflight` against stubbed AWS answers (botocore's Stubber): read-only calls only,
each missing piece named with its fix, a non-zero exit when anything is missing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from infra.preflight import main, processing_quota, spot_quota, training_quota

REGION = "eu-west-1"
PARAMETER = "/aws/service/powertools/python/arm64/python3.12/3.37.0"
LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7"
ALLOWED = ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge")


def quota(name: str, value: float, code: str) -> dict[str, Any]:
    return {"ServiceCode": "sagemaker", "QuotaName": name, "QuotaCode": code, "Value": value}


def account_quotas(**overrides: float) -> list[dict[str, Any]]:
    """Enough of everything the default configuration runs at once (2 x 2 x 1 = 4)."""
    quotas = []
    for i, instance_type in enumerate(ALLOWED):
        quotas.append(quota(training_quota(instance_type), 4, f"L-T{i}"))
        quotas.append(quota(spot_quota(instance_type), 4, f"L-S{i}"))
    quotas.append(quota(processing_quota("ml.m5.xlarge"), 1, "L-P0"))
    return [{**q, "Value": overrides.get(q["QuotaCode"], q["Value"])} for q in quotas]


class Session:
    """Hands out real clients whose answers are stubbed, and checks every stub was used."""

    region_name = REGION

    def __init__(self) -> None:
        self.regions: set[str] = set()
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}
        for service in ("sts", "ssm", "lambda", "service-quotas"):
            client = boto3.client(
                service,
                region_name=REGION,
                aws_access_key_id="k",
                aws_secret_access_key="s",
            )
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
        self.stubbers["sts"].add_response(
            "get_caller_identity",
            {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/u", "UserId": "u"},
        )

    def client(self, service: str, region_name: str) -> Any:
        self.regions.add(region_name)
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        return self.stubbers[service]

    def quotas(self, applied: list[dict[str, Any]], defaults: list[dict[str, Any]] = []) -> None:  # noqa: B006
        stub = self.stub("service-quotas")
        stub.add_response(
            "list_aws_default_service_quotas",
            {"Quotas": defaults},
            {"ServiceCode": "sagemaker"},
        )
        # Two pages, as the API may return them.
        half = len(applied) // 2
        stub.add_response(
            "list_service_quotas",
            {"Quotas": applied[:half], "NextToken": "page-2"},
            {"ServiceCode": "sagemaker"},
        )
        stub.add_response(
            "list_service_quotas",
            {"Quotas": applied[half:]},
            {"ServiceCode": "sagemaker", "NextToken": "page-2"},
        )

    def parameter(self) -> None:
        self.stub("ssm").add_response(
            "get_parameter",
            {"Parameter": {"Name": PARAMETER, "Value": LAYER, "Type": "String"}},
            {"Name": PARAMETER},
        )


@pytest.fixture
def session() -> Iterator[Session]:
    stubbed = Session()
    for stubber in stubbed.stubbers.values():
        stubber.activate()
    yield stubbed
    for stubber in stubbed.stubbers.values():
        stubber.assert_no_pending_responses()  # every stubbed call was made, no other


def run(session: Session, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), session=session, out=out)
    return code, out.getvalue()


def test_a_ready_account_passes(session: Session) -> None:
    session.parameter()
    session.quotas(account_quotas())
    code, out = run(session)
    assert code == 0, out
    assert session.regions == {REGION}
    assert f"{PARAMETER} -> {LAYER}" in out
    assert "ml.g4dn.xlarge for training job usage: 4 >= 4" in out
    assert "Ready to deploy." in out


def test_a_missing_layer_parameter_fails_and_offers_the_pin(session: Session) -> None:
    session.stub("ssm").add_client_error(
        "get_parameter", service_error_code="ParameterNotFound", expected_params={"Name": PARAMETER}
    )
    session.quotas(account_quotas())
    code, out = run(session)
    assert code == 1
    assert f"MISSING Powertools layer: SSM parameter {PARAMETER}" in out
    assert "-c ntm:powertoolsLayerArn=" in out


def test_a_pinned_layer_is_read_instead_of_the_parameter(session: Session) -> None:
    session.stub("lambda").add_response(
        "get_layer_version_by_arn",
        {"LayerVersionArn": LAYER, "Version": 7},
        {"Arn": LAYER},
    )
    session.quotas(account_quotas())
    code, out = run(session, "-c", f"ntm:powertoolsLayerArn={LAYER}")
    assert code == 0, out
    assert f"pinned layer {LAYER}" in out


def test_a_short_training_quota_fails_with_the_request_to_raise_it(session: Session) -> None:
    session.parameter()
    session.quotas(account_quotas(**{"L-T1": 3}))  # ml.g5.xlarge
    code, out = run(session)
    assert code == 1
    assert "MISSING ml.g5.xlarge for training job usage: 3 < 4" in out
    assert "--quota-code L-T1 --desired-value 4 --region eu-west-1" in out
    assert "1 problem(s) found." in out


def test_needs_follow_the_configuration(session: Session) -> None:
    session.parameter()
    session.quotas(account_quotas())
    # 3 x 2 x 1 = 6 of each, spot included once use_spot is on; quotas of 4 fall short.
    code, out = run(
        session,
        "-c",
        "ntm:maxConcurrentTuningJobs=3",
        "-c",
        "ntm:useSpot=true",
        "-c",
        "ntm:maxRuntimeSeconds=1800",
    )
    assert code == 1
    for instance_type in ALLOWED:
        assert f"MISSING {training_quota(instance_type)}: 4 < 6" in out
        assert f"MISSING {spot_quota(instance_type)}: 4 < 6" in out
    assert f"ok      {processing_quota('ml.m5.xlarge')}" in out


def test_spot_quotas_are_only_a_note_without_spot(session: Session) -> None:
    session.parameter()
    session.quotas(account_quotas(**{"L-S0": 0}))
    code, out = run(session)
    assert code == 0, out
    assert "note    ml.g4dn.xlarge for spot training job usage: 0 < 4" in out


def test_default_quotas_count_where_none_is_applied(session: Session) -> None:
    session.parameter()
    applied = account_quotas()
    default = [q for q in applied if q["QuotaCode"] == "L-P0"]
    session.quotas([q for q in applied if q["QuotaCode"] != "L-P0"], default)
    code, out = run(session)
    assert code == 0, out
    assert f"ok      {processing_quota('ml.m5.xlarge')}: 1 >= 1" in out


def test_a_quota_the_region_lacks_is_missing(session: Session) -> None:
    session.parameter()
    session.quotas([q for q in account_quotas() if q["QuotaCode"] != "L-T2"])
    code, out = run(session)
    assert code == 1
    assert "MISSING ml.p3.2xlarge for training job usage: no such SageMaker quota" in out


def test_a_region_without_images_is_missing(session: Session) -> None:
    session.parameter()
    session.quotas(account_quotas())
    code, out = run(session, "--region", "xx-nowhere-1")
    assert code == 1
    assert "MISSING NTM training image: no entry for xx-nowhere-1" in out
    assert "MISSING scikit-learn processing image: no entry for xx-nowhere-1" in out
    assert "ok      NTM training image" not in out


def test_an_invalid_override_is_reported_before_any_call() -> None:
    stubbed = Session()  # nothing activated: any AWS call would fail the test
    out = io.StringIO()
    assert main(["-c", "ntm:maxJobs=zero"], session=stubbed, out=out) == 2
    assert "ntm:maxJobs" in out.getvalue()
