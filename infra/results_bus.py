"""The custom EventBridge bus that carries tuning requests in and results out."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct


class ResultsBus(Construct):
    """A custom bus with an archive of every event on it, for replay and audit.

    Attributes: ``bus``, ``archive``.
    """

    def __init__(
        self, scope: Construct, id: str, *, bus_name: str, archive_retention_days: int
    ) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        self.archive = self.bus.archive(
            "Archive",
            description="Every event on the NTM tuning results bus",
            # An archive needs a pattern; matching on the account selects every event.
            event_pattern=events.EventPattern(account=[self.bus.env.account]),
            retention=Duration.days(archive_retention_days),
        )
