"""A rejection names every broken rule: in its message and field by field."""

from __future__ import annotations

from ntm_tuning.errors import RequestRejected, Violation


def test_a_rejection_names_each_field_and_its_problem_in_order() -> None:
    first = Violation("data.train", "s3_uri", "must be an s3:// URI")
    second = Violation("resource_limits.max_jobs", "cost_budget", "over the $10.00 budget")
    rejected = RequestRejected([first, second], cost_estimate={"max_usd": 12.5})
    assert str(rejected) == (
        "data.train: must be an s3:// URI; resource_limits.max_jobs: over the $10.00 budget"
    )
    assert rejected.violations == [first, second]
    assert rejected.cost_estimate == {"max_usd": 12.5}
    assert second.to_dict() == {
        "field": "resource_limits.max_jobs",
        "rule": "cost_budget",
        "message": "over the $10.00 budget",
    }
