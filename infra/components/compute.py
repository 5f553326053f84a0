"""Compute governance: cluster policies (interactive ML, jobs), the instance pool, the serverless SQL warehouse.

Policy definitions are JSON built from typed Python (`interactive_policy_definition`, `jobs_policy_definition`):
a typo in an attribute path fails a test instead of silently widening a policy in the workspace.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_databricks as dbx

from infra.config.compute import ComputeConfig, DataSecurityMode
from infra.config.identity import Role

# A policy attribute: {"type": "fixed"|"range"|"allowlist"|"forbidden", ...} (compute policy reference).
PolicyDefinition = dict[str, dict[str, Any]]
Availability = Literal["ON_DEMAND_AZURE", "SPOT_WITH_FALLBACK_AZURE"]

# Databricks enforces 10-10000 minutes for auto-termination (0 = never, which the policies never allow).
MIN_AUTOTERMINATION_MINUTES = 10


@dataclass(frozen=True)
class SpotSettings:
    """Azure spot with on-demand fallback; the first `first_on_demand` nodes (the driver first) on demand."""

    first_on_demand: int
    spot_bid_max_price: float


def _fixed(value: Any, hidden: bool = False) -> dict[str, Any]:
    return {"type": "fixed", "value": value, **({"hidden": True} if hidden else {})}


def _common(*, runtimes: Sequence[str], min_workers: int, max_workers: int, runtime_engine: str,
            spark_conf: Mapping[str, str], data_security_mode: DataSecurityMode, cost_tags: Mapping[str, str],
            max_dbus_per_hour: float, local_disk_encryption: bool = True) -> PolicyDefinition:
    definition: PolicyDefinition = {
        "spark_version": {"type": "allowlist", "values": list(runtimes), "defaultValue": runtimes[0]},
        "runtime_engine": _fixed(runtime_engine),
        "data_security_mode": _fixed(data_security_mode),
        "autoscale.min_workers": {"type": "range", "minValue": min_workers, "maxValue": max_workers,
                                  "defaultValue": min_workers},
        "autoscale.max_workers": {"type": "range", "minValue": max(min_workers, 1), "maxValue": max_workers,
                                  "defaultValue": max_workers},
        # A fixed-size cluster gets the same ceiling as an autoscaling one.
        "num_workers": {"type": "range", "minValue": min_workers, "maxValue": max_workers, "isOptional": True},
        "dbus_per_hour": {"type": "range", "maxValue": max_dbus_per_hour},
    }
    if local_disk_encryption:  # SAT DP-2: data spilled to local disks is encrypted (clusters API field)
        definition["enable_local_disk_encryption"] = _fixed(True, hidden=True)
    definition.update({f"spark_conf.{key}": _fixed(value) for key, value in sorted(spark_conf.items())})
    definition.update({f"custom_tags.{key}": _fixed(value) for key, value in sorted(cost_tags.items())})
    return definition


def _nodes(node_type: str, driver_node_type: str, availability: Availability,
           spot: SpotSettings | None) -> PolicyDefinition:
    definition: PolicyDefinition = {
        "node_type_id": _fixed(node_type),
        "driver_node_type_id": _fixed(driver_node_type),
        "instance_pool_id": {"type": "forbidden", "hidden": True},
        "driver_instance_pool_id": {"type": "forbidden", "hidden": True},
        "azure_attributes.availability": _fixed(availability, hidden=True),
    }
    if spot is not None:
        definition["azure_attributes.first_on_demand"] = _fixed(spot.first_on_demand, hidden=True)
        definition["azure_attributes.spot_bid_max_price"] = _fixed(spot.spot_bid_max_price, hidden=True)
    return definition


def interactive_policy_definition(
        *, runtimes: Sequence[str], node_type: str, driver_node_type: str, instance_pool_id: str | None,
        min_workers: int, max_workers: int, autotermination_minutes: int, runtime_engine: str,
        spark_conf: Mapping[str, str], data_security_mode: DataSecurityMode, cost_tags: Mapping[str, str],
        max_dbus_per_hour: float, spot: SpotSettings | None, local_disk_encryption: bool = True) -> PolicyDefinition:
    """All-purpose ML clusters: from the pool when there is one (its node type), else fixed node types."""
    definition: PolicyDefinition = {"cluster_type": _fixed("all-purpose")}
    definition.update(_common(runtimes=runtimes, min_workers=min_workers, max_workers=max_workers,
                              runtime_engine=runtime_engine, spark_conf=spark_conf,
                              data_security_mode=data_security_mode, cost_tags=cost_tags,
                              max_dbus_per_hour=max_dbus_per_hour, local_disk_encryption=local_disk_encryption))
    definition["autotermination_minutes"] = {
        "type": "range", "minValue": MIN_AUTOTERMINATION_MINUTES, "maxValue": autotermination_minutes,
        "defaultValue": autotermination_minutes}
    if instance_pool_id is not None:
        # The pool decides node type and availability; driver and workers both come from it.
        definition["instance_pool_id"] = _fixed(instance_pool_id, hidden=True)
        definition["driver_instance_pool_id"] = _fixed(instance_pool_id, hidden=True)
    else:
        availability: Availability = "SPOT_WITH_FALLBACK_AZURE" if spot else "ON_DEMAND_AZURE"
        definition.update(_nodes(node_type, driver_node_type, availability, spot))
    return definition


def jobs_policy_definition(
        *, runtimes: Sequence[str], node_type: str, driver_node_type: str, min_workers: int, max_workers: int,
        runtime_engine: str, spark_conf: Mapping[str, str], data_security_mode: DataSecurityMode,
        cost_tags: Mapping[str, str], max_dbus_per_hour: float, spot: SpotSettings,
        local_disk_encryption: bool = True) -> PolicyDefinition:
    """Job clusters (they end with their run, so no auto-termination): spot with on-demand fallback."""
    definition: PolicyDefinition = {"cluster_type": _fixed("job")}
    definition.update(_common(runtimes=runtimes, min_workers=min_workers, max_workers=max_workers,
                              runtime_engine=runtime_engine, spark_conf=spark_conf,
                              data_security_mode=data_security_mode, cost_tags=cost_tags,
                              max_dbus_per_hour=max_dbus_per_hour, local_disk_encryption=local_disk_encryption))
    definition.update(_nodes(node_type, driver_node_type, "SPOT_WITH_FALLBACK_AZURE", spot))
    return definition


def policy_json(definition: PolicyDefinition) -> str:
    return json.dumps(definition, sort_keys=True)


def _access(groups: Sequence[str], level: str, service_principals: Sequence[str] = ()
            ) -> list[dbx.PermissionsAccessControlArgs]:
    return ([dbx.PermissionsAccessControlArgs(group_name=g, permission_level=level) for g in groups]
            + [dbx.PermissionsAccessControlArgs(service_principal_name=sp, permission_level=level)
               for sp in service_principals])


@dataclass(frozen=True)
class ComputeArgs:
    stack: str  # the environment's name (its stack); names and comments use it
    config: ComputeConfig
    cost_tags: dict[str, str]                # fixed custom tags on every cluster, pool and warehouse
    group_names: Mapping[Role, str]          # role -> account group name
    cicd_application_id: str                 # the CI/CD service principal (runs jobs, owns alerts)
    workspace_provider: dbx.Provider
    # What makes the groups and the CI/CD principal workspace principals (the permission assignments);
    # every Permissions resource waits for it.
    depends_on: Sequence[pulumi.Resource] = ()
    local_disk_encryption: bool = True  # policies fix enable_local_disk_encryption (SAT DP-2)


class Compute(pulumi.ComponentResource):
    """mlops:platform:Compute: cluster policies, instance pool (dev/test), serverless SQL warehouse."""

    cluster_policies: dict[str, dbx.ClusterPolicy]   # "interactive", "jobs"
    instance_pool: dbx.InstancePool | None
    sql_warehouse: dbx.SqlEndpoint

    def __init__(self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Compute", name, None, opts)
        cfg, env = args.config, args.stack
        ws = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider)
        acl = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                     depends_on=list(args.depends_on))

        def groups(roles: Sequence[Role]) -> list[str]:
            return [args.group_names[r] for r in roles]

        self.instance_pool = None
        pool_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if cfg.instance_pool is not None:
            pool = cfg.instance_pool
            self.instance_pool = dbx.InstancePool(
                f"{name}-pool",
                instance_pool_name=f"mlops-{env}-ml-pool",
                node_type_id=cfg.node_type_id,
                idle_instance_autotermination_minutes=pool.idle_instance_autotermination_minutes,
                min_idle_instances=pool.min_idle_instances,
                max_capacity=pool.max_capacity,
                preloaded_spark_versions=[cfg.default_runtime],
                azure_attributes=dbx.InstancePoolAzureAttributesArgs(availability="ON_DEMAND_AZURE"),
                custom_tags=args.cost_tags,
                opts=ws)
            # Users of a pool-bound policy need CAN_ATTACH_TO on the pool to start clusters.
            dbx.Permissions(f"{name}-pool-permissions", instance_pool_id=self.instance_pool.id,
                            access_controls=_access(groups(cfg.users), "CAN_ATTACH_TO"), opts=acl)
            pool_id = self.instance_pool.id

        common: dict[str, Any] = {
            "runtimes": cfg.runtime_versions, "node_type": cfg.node_type_id,
            "driver_node_type": cfg.driver_node_type, "min_workers": cfg.min_workers,
            "max_workers": cfg.max_workers, "runtime_engine": cfg.runtime_engine, "spark_conf": cfg.spark_conf,
            "data_security_mode": cfg.data_security_mode, "cost_tags": args.cost_tags,
            "max_dbus_per_hour": cfg.max_dbus_per_hour, "local_disk_encryption": args.local_disk_encryption}
        jobs_spot = SpotSettings(cfg.jobs.first_on_demand, cfg.jobs.spot_bid_max_price)
        interactive_spot = jobs_spot if cfg.spot_instances else None

        interactive = dbx.ClusterPolicy(
            f"{name}-interactive-policy",
            name=f"mlops-{env}-ml-interactive",
            description=f"{env}: interactive ML clusters (runtime, size, auto-termination and cost tags fixed)",
            definition=pool_id.apply(lambda pid: policy_json(interactive_policy_definition(
                instance_pool_id=pid, autotermination_minutes=cfg.autotermination_minutes,
                spot=interactive_spot, **common))),
            max_clusters_per_user=cfg.max_clusters_per_user,
            opts=ws)
        jobs = dbx.ClusterPolicy(
            f"{name}-jobs-policy",
            name=f"mlops-{env}-ml-jobs",
            description=f"{env}: job clusters on spot with on-demand fallback (driver on demand)",
            definition=policy_json(jobs_policy_definition(spot=jobs_spot, **common)),
            opts=ws)
        dbx.Permissions(f"{name}-interactive-policy-permissions", cluster_policy_id=interactive.id,
                        access_controls=_access(groups(cfg.users), "CAN_USE"), opts=acl)
        dbx.Permissions(f"{name}-jobs-policy-permissions", cluster_policy_id=jobs.id,
                        access_controls=_access(groups(cfg.jobs.users), "CAN_USE", [args.cicd_application_id]),
                        opts=acl)
        self.cluster_policies = {"interactive": interactive, "jobs": jobs}

        wh = cfg.sql_warehouse
        self.sql_warehouse = dbx.SqlEndpoint(
            f"{name}-sql-warehouse",
            name=f"mlops-{env}-monitoring",
            cluster_size=wh.cluster_size,
            auto_stop_mins=wh.auto_stop_mins,
            min_num_clusters=wh.min_num_clusters,
            max_num_clusters=wh.max_num_clusters,
            enable_serverless_compute=True,
            warehouse_type="PRO",  # serverless needs PRO
            enable_photon=True,
            tags=dbx.SqlEndpointTagsArgs(custom_tags=[
                dbx.SqlEndpointTagsCustomTagArgs(key=k, value=v) for k, v in sorted(args.cost_tags.items())]),
            opts=ws)
        dbx.Permissions(f"{name}-sql-warehouse-permissions", sql_endpoint_id=self.sql_warehouse.id,
                        access_controls=_access(groups(wh.users), "CAN_USE", [args.cicd_application_id]), opts=acl)

        self.register_outputs({"sqlWarehouseId": self.sql_warehouse.id,
                               "clusterPolicyIds": {k: p.id for k, p in self.cluster_policies.items()}})
