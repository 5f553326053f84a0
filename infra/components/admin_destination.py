"""The platform admins' notification destination: where audit and cost alerts go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.serving.alerts import email_destination


@dataclass(frozen=True)
class AdminDestinationArgs:
    stack: str
    emails: Sequence[str]
    provider: dbx.Provider


class AdminDestination(pulumi.ComponentResource):
    """mlops:platform:AdminDestination: one e-mail notification destination for the platform admins."""

    def __init__(self, name: str, args: AdminDestinationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:AdminDestination", name, None, opts)
        self.destination = email_destination(
            f"mlops-{args.stack}-platform-admins", f"mlops-{args.stack} platform admins (e-mail)", args.emails,
            pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"destinationId": self.destination.id})
