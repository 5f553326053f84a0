"""The primary's side of the standby copy: a Delta Sharing share of its schemas, a Databricks-to-Databricks
recipient for the standby's metastore, and the recipient's SELECT on the share.

Databricks-to-Databricks sharing works between metastores in different regions and accounts (Databricks
docs, "Share data using the Delta Sharing Databricks-to-Databricks protocol"); a shared schema carries its
tables, views, volumes and models (terraform-provider-databricks docs/resources/share.md, data_object_type
SCHEMA). The share reads the primary's lake, so the standby's copy job, not the share, is what survives an
outage of the primary's region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.resilience import DrShareConfig


@dataclass(frozen=True)
class StandbyShareArgs:
    config: DrShareConfig
    stack: str
    provider: dbx.Provider
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()  # the shared schemas


class StandbyShare(pulumi.ComponentResource):
    """mlops:platform:StandbyShare: the share the standby's copy job reads, and its one recipient."""

    def __init__(self, name: str, args: StandbyShareArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:StandbyShare", name, None, opts)
        cfg = args.config
        on = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))
        self.share = dbx.Share(
            f"{name}-share", name=cfg.name,
            objects=[dbx.ShareObjectArgs(data_object_type="SCHEMA", name=schema) for schema in cfg.schemas],
            opts=on)
        self.recipient = dbx.Recipient(
            f"{name}-recipient", name=f"{args.stack}-standby", authentication_type="DATABRICKS",
            data_recipient_global_metastore_id=cfg.recipient_metastore_id,
            comment=f"The disaster-recovery standby of {args.stack}", opts=on)
        self.grants = dbx.Grants(
            f"{name}-grants", share=self.share.name,
            grants=[dbx.GrantsGrantArgs(principal=self.recipient.name, privileges=["SELECT"])],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"share": cfg.name})
