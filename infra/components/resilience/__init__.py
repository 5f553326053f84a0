"""Resilience: the restore drill, the primary's share to its standby, and what fills the standby.

- `drill.RestoreDrill`: the monthly (and on-demand) restore drill job;
- `share.StandbyShare`: the primary's Delta Sharing share of its schemas to the standby's metastore;
- `standby.StandbyReplication`: in the standby stack, Databricks Managed Disaster Recovery or the copy job.
"""

from infra.components.resilience.drill import RestoreDrill, RestoreDrillArgs
from infra.components.resilience.share import StandbyShare, StandbyShareArgs
from infra.components.resilience.standby import StandbyReplication, StandbyReplicationArgs

__all__ = ["RestoreDrill", "RestoreDrillArgs", "StandbyReplication", "StandbyReplicationArgs", "StandbyShare",
           "StandbyShareArgs"]
