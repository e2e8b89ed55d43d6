"""Results bus with its archive, the NTM image mapping, and the stack outputs."""

from __future__ import annotations

import re

from aws_cdk.assertions import Template

from tests.infra.conftest import Synthesized
from tests.infra.helpers import environment, mapping_of


def test_results_bus_is_named_from_config(synthesized: Synthesized, template: Template) -> None:
    template.resource_count_is("AWS::Events::EventBus", 1)
    template.has_resource_properties(
        "AWS::Events::EventBus", {"Name": synthesized.config.results_bus_name}
    )


def test_archive_keeps_everything_on_the_bus(synthesized: Synthesized) -> None:
    bus = synthesized.logical_id("AWS::Events::EventBus")
    (archive,) = synthesized.resources("AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["SourceArn"] == {"Fn::GetAtt": [bus, "Arn"]}
    assert props["RetentionDays"] == synthesized.config.archive_retention_days
    # Every event carries the account that put it; nothing else narrows the pattern.
    assert props["EventPattern"] == {"account": [{"Ref": "AWS::AccountId"}]}


def test_image_mapping_covers_the_33_ntm_regions(synthesized: Synthesized) -> None:
    mapping = synthesized.json["Mappings"][mapping_of(environment(synthesized)["TRAINING_IMAGE"])]
    assert len(mapping) == 33
    assert mapping["us-east-1"] == {"account": "382416733822"}
    assert mapping["eu-west-1"] == {"account": "438346466558"}
    assert mapping["cn-north-1"] == {"account": "390948362332"}
    assert mapping["us-gov-west-1"] == {"account": "226302683700"}
    for region, entry in mapping.items():
        assert re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region), region
        assert re.fullmatch(r"\d{12}", entry["account"]), region


def test_image_uri_is_resolved_per_region(synthesized: Synthesized) -> None:
    mapping_id = mapping_of(environment(synthesized)["TRAINING_IMAGE"])
    find_account = {"Fn::FindInMap": [mapping_id, {"Ref": "AWS::Region"}, "account"]}
    expected = {
        "Fn::Join": [
            "",
            [
                find_account,
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/ntm:1",
            ],
        ]
    }
    given = [
        variables["TRAINING_IMAGE"]
        for function in synthesized.resources("AWS::Lambda::Function").values()
        if "TRAINING_IMAGE" in (variables := function["Properties"]["Environment"]["Variables"])
    ]
    # The functions that plan jobs (validation, and the build after a preparation) get it.
    assert len(given) == 2
    for value in given:
        assert value == expected


def test_outputs(synthesized: Synthesized) -> None:
    outputs = synthesized.json["Outputs"]
    bus = synthesized.logical_id("AWS::Events::EventBus")
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    assert outputs["ResultsBusName"]["Value"] == {"Ref": bus}
    assert outputs["ResultsBusArn"]["Value"] == {"Fn::GetAtt": [bus, "Arn"]}
    assert outputs["StateMachineArn"]["Value"] == {"Ref": state_machine}
    buckets = synthesized.resources("AWS::S3::Bucket")
    for name in ("DataBucketName", "ArtifactsBucketName"):
        assert outputs[name]["Value"]["Ref"] in buckets
    assert outputs["DataBucketName"]["Value"] != outputs["ArtifactsBucketName"]["Value"]
