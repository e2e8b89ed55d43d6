"""The committed JSON Schemas match the pydantic models, and every example validates."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ntm_tuning import events, schemas
from ntm_tuning.request import TuningRequest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schemas"


@pytest.mark.parametrize("name", sorted(schemas.CONTRACTS))
def test_committed_schema_matches_the_model(name: str) -> None:
    committed = (SCHEMA_DIR / f"{name}.schema.json").read_text()
    assert committed == schemas.render(name), (
        f"schemas/{name}.schema.json is stale: run `make schemas` and commit the result"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(committed))


def test_every_event_type_has_a_schema() -> None:
    published = {
        events.SUCCEEDED: events.JobSucceededDetail,
        events.REJECTED: events.RequestRejectedDetail,
        events.FAILED: events.JobFailedDetail,
        events.STOPPED: events.JobStoppedDetail,
        events.PROGRESS: events.JobProgressDetail,
    }
    assert published == events.DETAIL_MODELS
    committed = {path.name.removesuffix(".schema.json") for path in SCHEMA_DIR.glob("*.json")}
    assert committed == set(schemas.CONTRACTS)
    assert schemas.CONTRACTS["ntm-tuning-request-rejected"] == (
        events.RequestRejectedDetail,
        "detail of NTM Tuning Request Rejected",
    )


@pytest.mark.parametrize(
    "example", sorted((SCHEMA_DIR / "examples").glob("*.json")), ids=lambda p: p.name
)
def test_schema_examples_validate(example: Path) -> None:
    schema = json.loads((SCHEMA_DIR / f"{example.stem}.schema.json").read_text())
    jsonschema.validate(json.loads(example.read_text()), schema)


@pytest.mark.parametrize(
    "example", sorted((ROOT / "examples" / "requests").glob("*.json")), ids=lambda p: p.name
)
def test_example_requests_are_valid_requests(example: Path) -> None:
    body = json.loads(example.read_text())
    jsonschema.validate(body, json.loads((SCHEMA_DIR / "tuning-request.schema.json").read_text()))
    TuningRequest.model_validate(body)


def test_make_schemas_writes_exactly_the_committed_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "schemas"  # a folder that does not exist yet
    schemas.main(str(target))
    written = {path.name: path.read_text(encoding="utf-8") for path in target.iterdir()}
    committed = {
        path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.schema.json")
    }
    assert written == committed
    # Run again over what it wrote (`make schemas` on a checkout): the same files.
    schemas.main(str(target))
    assert {path.name: path.read_text(encoding="utf-8") for path in target.iterdir()} == committed
