"""The dataset preparation stage's image and code: the scikit-learn image mapping and the
`preparation` zip asset the processing job runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.infra.conftest import ROOT, Synthesized
from tests.infra.helpers import environment, mapping_of

# From the SageMaker Python SDK's src/sagemaker/image_uri_config/sklearn.json: a few entries
# checked by hand, one per partition.
SKLEARN_ACCOUNTS = {
    "us-east-1": "683313688378",
    "eu-west-1": "141502667606",
    "ap-southeast-2": "783357654285",
    "cn-north-1": "450853457545",
    "us-gov-west-1": "414596584902",
    "us-iso-east-1": "833128469047",
}


def _sklearn_mapping(synthesized: Synthesized) -> dict[str, dict[str, str]]:
    mapping: dict[str, dict[str, str]] = synthesized.json["Mappings"][
        mapping_of(environment(synthesized)["PROCESSING_IMAGE"])
    ]
    return mapping


def test_scikit_learn_mapping_lists_the_sdks_regions(synthesized: Synthesized) -> None:
    mapping = _sklearn_mapping(synthesized)
    assert len(mapping) == 35
    for region, account in SKLEARN_ACCOUNTS.items():
        assert mapping[region] == {"account": account}, region
    for region, entry in mapping.items():
        assert re.fullmatch(r"[a-z]{2}(-gov|-iso|-isob)?-[a-z]+-\d", region), region
        assert set(entry) == {"account"} and re.fullmatch(r"\d{12}", entry["account"]), region


def test_scikit_learn_mapping_covers_every_ntm_region(synthesized: Synthesized) -> None:
    """Wherever the NTM image exists (and the SDK lists scikit-learn), preparation can run."""
    ntm = synthesized.json["Mappings"][mapping_of(environment(synthesized)["TRAINING_IMAGE"])]
    assert set(ntm) <= set(_sklearn_mapping(synthesized))
    assert _sklearn_mapping(synthesized) is not ntm


def test_processing_image_uri_is_resolved_per_region(synthesized: Synthesized) -> None:
    image = environment(synthesized)["PROCESSING_IMAGE"]
    mapping_id = mapping_of(image)
    assert image == {
        "Fn::Join": [
            "",
            [
                {"Fn::FindInMap": [mapping_id, {"Ref": "AWS::Region"}, "account"]},
                ".dkr.ecr.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/sagemaker-scikit-learn:1.2-1-cpu-py3",
            ],
        ]
    }
    given = [
        variables["PROCESSING_IMAGE"]
        for function in synthesized.resources("AWS::Lambda::Function").values()
        if "PROCESSING_IMAGE" in (variables := function["Properties"]["Environment"]["Variables"])
    ]
    # The functions that plan jobs (validation, and the build after a preparation) get it.
    assert len(given) == 2
    for value in given:
        assert value == image


def _file_assets(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    manifest = Path(synthesized.assembly.directory) / f"{synthesized.stack.artifact_id}.assets.json"
    files: dict[str, dict[str, Any]] = json.loads(manifest.read_text())["files"]
    return files


def _code_asset(synthesized: Synthesized) -> dict[str, Any]:
    """The asset PREPARATION_CODE_URI points at (bucket and key as CDK publishes it)."""
    uri = environment(synthesized)["PREPARATION_CODE_URI"]["Fn::Sub"]
    matches = [
        asset
        for asset in _file_assets(synthesized).values()
        for destination in asset["destinations"].values()
        if uri == f"s3://{destination['bucketName']}/{destination['objectKey']}"
    ]
    assert len(matches) == 1, uri
    return matches[0]


def test_code_uri_is_the_preparation_zip(synthesized: Synthesized) -> None:
    asset = _code_asset(synthesized)
    assert asset["source"]["packaging"] == "zip"
    staged = Path(synthesized.assembly.directory) / asset["source"]["path"]
    shipped = {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()}
    source = ROOT / "preparation"
    expected = {
        str(p.relative_to(source))
        for p in source.rglob("*")
        if p.is_file()
        and p.name != "README.md"
        and p.suffix != ".pyc"
        and "__pycache__" not in p.parts
    }
    # The package's modules at the root of the zip (the job extracts it into `preparation/`).
    assert {"job.py", "__init__.py", "prepare.py", "config.py"} <= shipped
    assert shipped == expected


def test_code_uri_is_the_same_for_every_function_and_not_the_lambda_code(
    synthesized: Synthesized,
) -> None:
    uris = [
        json.dumps(variables["PREPARATION_CODE_URI"])
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if "PREPARATION_CODE_URI" in (variables := f["Properties"]["Environment"]["Variables"])
    ]
    assert len(uris) == 2 and len(set(uris)) == 1
    key = _code_asset(synthesized)
    for function in synthesized.resources("AWS::Lambda::Function").values():
        code = function["Properties"]["Code"]
        assert code["S3Key"] not in {d["objectKey"] for d in key["destinations"].values()}


def test_no_bucket_deployment(synthesized: Synthesized) -> None:
    """The job downloads the zip itself: no custom resource copies it anywhere."""
    assert not synthesized.resources("Custom::CDKBucketDeployment")
    assert {
        v["Type"] for v in synthesized.json["Resources"].values() if v["Type"].startswith("Custom")
    } <= {"Custom::S3AutoDeleteObjects"}
