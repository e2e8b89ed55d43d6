"""JSON Schemas of the contracts, generated from the pydantic models.

``python -m ntm_tuning.schemas schemas`` rewrites the committed files; a test fails when
they no longer match the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from . import events
from .request import TuningRequest


def schema_name(detail_type: str) -> str:  # pragma: no mutate block
    """``NTM Tuning Job Succeeded`` -> ``ntm-tuning-job-succeeded``. (Used at import, for
    CONTRACTS: the committed file names check it; a mutation run cannot reach it.)"""
    return detail_type.lower().replace(" ", "-")


# The request, and the detail of every event type the pipeline publishes.
CONTRACTS: dict[str, tuple[type[BaseModel], str]] = {
    "tuning-request": (TuningRequest, "request"),
    **{
        schema_name(detail_type): (model, "detail of " + detail_type)
        for detail_type, model in events.DETAIL_MODELS.items()
    },
}


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one contract; its description is the model's docstring."""
    model, what = CONTRACTS[name]
    # A request is read (validated), a detail written (serialized). The two modes give the same
    # schema for every contract today, so no test can tell them apart.
    mode: Literal["serialization", "validation"] = (
        "serialization" if "detail" in what else "validation"  # pragma: no mutate
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ntm-tuning/schemas/{name}.schema.json",
        **model.model_json_schema(mode=mode),
    }


def render(name: str) -> str:
    return json.dumps(schema(name), indent=2, sort_keys=True) + "\n"


def main(target: str) -> None:
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    for name in CONTRACTS:
        (folder / f"{name}.schema.json").write_bytes(render(name).encode())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "schemas")
