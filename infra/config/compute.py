"""Compute config: cluster policies (interactive ML and jobs), instance pool, serverless SQL warehouse.

The seed's runtime config (book chapter 5) and DBU strategy (chapter 6) per environment; the catalogs
below (runtime keys, node families and their DBU rates, warehouse sizes) are what the validation allows.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems
from infra.config.identity import Role

# Databricks Runtime ML keys as `GET /api/2.1/clusters/spark-versions` lists them:
# <major>.<minor>.x-<cpu|gpu>-ml-scala<2.12|2.13>. The seed's `17.2.x-ml-scala2.12` is not such a key (it lacks
# `-cpu-`, and 17.x ships Scala 2.13 only). The allowlist is the supported LTS ML runtimes (release notes,
# "Databricks Runtime release notes versions and compatibility"): 15.4 LTS and 16.4 LTS (Scala 2.12, and
# 2.13 for 16.4), 17.3 LTS (Scala 2.13 only). Extend it when a new LTS ships.
RUNTIME_KEY = re.compile(r"^(?P<version>\d{2}\.\d+)\.x-(?P<kind>cpu|gpu)-ml-scala(?P<scala>2\.1[23])$")
SUPPORTED_ML_RUNTIMES: tuple[str, ...] = (
    "17.3.x-cpu-ml-scala2.13",
    "16.4.x-cpu-ml-scala2.13",
    "16.4.x-cpu-ml-scala2.12",
    "15.4.x-cpu-ml-scala2.12",
)

# Azure VM families the policies may use, with each size's DBUs per hour on the non-Photon runtime (Azure
# Databricks pricing page, instance table). A family is the series + feature letters + version
# (Standard_DS4_v2 -> DSv2, Standard_D8s_v3 -> Dsv3). CPU families only: the runtimes above are CPU runtimes.
NODE_TYPE = re.compile(r"^Standard_(?P<series>[A-Z]+)(?P<size>\d+)(?P<features>[a-z]*)(?:_(?P<version>v\d))?$")
DBUS_PER_NODE_HOUR: dict[str, dict[str, float]] = {
    "DSv2": {"Standard_DS3_v2": 0.75, "Standard_DS4_v2": 1.5, "Standard_DS5_v2": 3.0,
             "Standard_DS12_v2": 1.0, "Standard_DS13_v2": 2.0, "Standard_DS14_v2": 4.0},
    "Dsv3": {"Standard_D4s_v3": 0.75, "Standard_D8s_v3": 1.5, "Standard_D16s_v3": 3.0,
             "Standard_D32s_v3": 6.0},
    "Esv3": {"Standard_E4s_v3": 1.0, "Standard_E8s_v3": 2.0, "Standard_E16s_v3": 4.0},
}
# Photon compute is billed at twice the node's DBU rate (pricing page: Photon instance types consume DBUs at a
# different rate); the bound check uses this so a Photon cluster at max size still fits under dbus_per_hour.
PHOTON_DBU_MULTIPLIER = 2.0

# Serverless SQL warehouse sizes and their DBUs per hour (Databricks "serverless DBU consumption by SKU").
WAREHOUSE_DBUS_PER_HOUR: dict[str, int] = {
    "2X-Small": 4, "X-Small": 6, "Small": 12, "Medium": 24, "Large": 40, "X-Large": 80, "2X-Large": 144,
}
WarehouseSize = Literal["2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large"]

# Unity Catalog access modes. ML runtimes run on dedicated (single-user) compute.
DataSecurityMode = Literal["SINGLE_USER", "USER_ISOLATION"]


def node_family(node_type: str) -> str | None:
    """'Standard_DS4_v2' -> 'DSv2'; None when the name is not an Azure VM size."""
    m = NODE_TYPE.match(node_type)
    if not m:
        return None
    return f"{m['series']}{m['features']}{m['version'] or ''}"


def dbus_per_node_hour(node_type: str) -> float:
    family = node_family(node_type)
    return DBUS_PER_NODE_HOUR[family or ""][node_type]


def _check_node_type(v: str) -> str:
    family = node_family(v)
    if family is None:
        raise ValueError("is not an Azure VM size (e.g. 'Standard_DS3_v2')")
    if family not in DBUS_PER_NODE_HOUR:
        raise ValueError(f"is of node type family {family}, which the policies do not allow; allowed families: "
                         f"{', '.join(DBUS_PER_NODE_HOUR)}")
    sizes = DBUS_PER_NODE_HOUR[family]
    if v not in sizes:
        raise ValueError(f"has no known DBU rate in family {family}; allowed: {', '.join(sizes)}")
    return v


class InstancePoolConfig(StrictModel):
    """Warm on-demand instances for the interactive policy (seed: dev and test only)."""

    idle_instance_autotermination_minutes: int = Field(ge=1, le=10000)
    """Minutes an idle pool instance is kept warm before it is released."""
    min_idle_instances: int = Field(default=0, ge=0, le=100)
    """Instances the pool keeps warm even when unused (they cost VM time); 0 keeps none."""
    max_capacity: int = Field(ge=1, le=1000)
    """Most instances the pool may hold; must fit one cluster at maxWorkers plus its driver."""


class JobsPolicyConfig(StrictModel):
    """Job clusters: spot instances with on-demand fallback, the first node (the driver) on demand."""

    availability: Literal["SPOT_WITH_FALLBACK_AZURE"] = "SPOT_WITH_FALLBACK_AZURE"
    """Job clusters run on spot instances and fall back to on-demand when spot is unavailable."""
    first_on_demand: int = Field(default=1, ge=1, le=100)  # >= 1: the driver is never evicted
    """How many of the first nodes (the driver first) are on-demand; at least 1 so the driver is never evicted."""
    # USD per hour per node; -1 = up to the on-demand price, never evicted for price (seed: 100 % of on-demand).
    spot_bid_max_price: float = -1
    """Highest spot price in USD per hour per node; -1 pays up to the on-demand price and is never evicted for
    price."""
    users: list[Role] = ["mlEngineers", "devopsEngineers"]
    """Roles whose groups may use the jobs cluster policy (CAN_USE); the CI/CD service principal always may."""

    @field_validator("spot_bid_max_price")
    @classmethod
    def _bid(cls, v: float) -> float:
        if v != -1 and v <= 0:
            raise ValueError("is not allowed; allowed: -1 (pay up to the on-demand price) or a price above 0 USD")
        return v


class SqlWarehouseConfig(StrictModel):
    """The serverless SQL warehouse behind monitoring dashboards and SQL alerts."""

    cluster_size: WarehouseSize
    """Size of the serverless SQL warehouse behind monitoring dashboards and SQL alerts; sets its DBUs per hour."""
    auto_stop_mins: int = Field(ge=1, le=1440)
    """Minutes idle before the warehouse stops (0, never, is refused)."""
    min_num_clusters: int = Field(default=1, ge=1, le=30)
    """Fewest clusters the warehouse keeps while running."""
    max_num_clusters: int = Field(default=1, ge=1, le=30)
    """Most clusters the warehouse scales out to; multiplies its DBUs per hour in the cost table."""
    users: list[Role] = ["dataScientists", "mlEngineers", "devopsEngineers"]
    """Roles whose groups may use the SQL warehouse (CAN_USE); the CI/CD service principal always may."""

    @field_validator("auto_stop_mins", mode="before")
    @classmethod
    def _never_zero(cls, v: Any) -> Any:
        if v == 0:
            raise ValueError("would keep the warehouse running forever; allowed: 1-1440 minutes")
        return v

    @model_validator(mode="after")
    def _scaling(self) -> SqlWarehouseConfig:
        if self.min_num_clusters > self.max_num_clusters:
            raise field_problems([("minNumClusters", self.min_num_clusters,
                                   f"is above maxNumClusters {self.max_num_clusters}")])
        return self

    @property
    def dbus_per_hour(self) -> int:
        return WAREHOUSE_DBUS_PER_HOUR[self.cluster_size] * self.max_num_clusters


class ComputeConfig(StrictModel):
    """`mlops-platform:compute`: what a cluster in this environment may be (the seed's runtime_config)."""

    runtime_versions: list[str] = Field(min_length=1)  # the allowlist; the first is the default
    """Databricks Runtime ML versions the cluster policies allow; the first is the default (e.g.
    `16.4.x-cpu-ml-scala2.12`)."""
    node_type_id: str
    """Azure VM size of the worker nodes the policies allow (e.g. `Standard_DS3_v2`); its DBU rate feeds the DBU limit
    check."""
    driver_node_type_id: str | None = None  # default: node_type_id
    """Azure VM size of the driver; unset, the same as nodeTypeId."""
    min_workers: int = Field(ge=0, le=1000)
    """Fewest workers an autoscaling cluster may have."""
    max_workers: int = Field(ge=1, le=1000)
    """Most workers a cluster may have; with the node's DBU rate it must stay under maxDbusPerHour."""
    autotermination_minutes: int
    """Minutes idle before an interactive cluster terminates (10 to 10000; 0, never, is refused)."""
    photon: bool = False
    """Run clusters with the Photon engine (billed at twice the node's DBU rate)."""
    spot_instances: bool = False  # interactive clusters on spot with on-demand fallback (seed: prod)
    """Interactive clusters on spot instances with on-demand fallback (seed: prod); not allowed with an
    instancePool."""
    spark_conf: dict[str, str] = {}
    """Spark settings the policies fix on every cluster (keys start with `spark.`)."""
    data_security_mode: DataSecurityMode = "SINGLE_USER"
    """Unity Catalog access mode of clusters; ML runtimes run on dedicated (`SINGLE_USER`) compute."""
    max_dbus_per_hour: float = Field(gt=0)
    """DBU per hour limit of one cluster in the policy; must cover the largest allowed cluster (driver plus
    maxWorkers)."""
    max_clusters_per_user: int = Field(ge=1, le=100)
    """How many clusters one user may run under the interactive policy; the cost table multiplies by it."""
    users: list[Role] = ["dataScientists", "mlEngineers"]
    """Roles whose groups may use the interactive cluster policy (CAN_USE) and attach to the instance pool."""
    instance_pool: InstancePoolConfig | None = None
    """Warm on-demand instances for the interactive policy (seed: dev and test only); leave out for none."""
    jobs: JobsPolicyConfig = JobsPolicyConfig()
    """The jobs cluster policy: spot instances with on-demand fallback, the driver on demand."""
    sql_warehouse: SqlWarehouseConfig
    """The serverless SQL warehouse behind monitoring dashboards and SQL alerts."""

    @field_validator("runtime_versions")
    @classmethod
    def _runtimes(cls, v: list[str]) -> list[str]:
        for i, key in enumerate(v):
            if not RUNTIME_KEY.match(key):
                raise ValueError(f"has {key!r}, which is not an ML runtime key; format "
                                 f"<major>.<minor>.x-cpu-ml-scala<2.12|2.13>, e.g. {SUPPORTED_ML_RUNTIMES[0]!r}")
            if key not in SUPPORTED_ML_RUNTIMES:
                # Reported on the entry, not the whole list: the allowlist alone fills most of a line.
                raise field_problems([(f"[{i}]", key, "is not a supported LTS runtime; allowed: "
                                                      f"{', '.join(SUPPORTED_ML_RUNTIMES)}")])
        if len(set(v)) != len(v):
            raise ValueError("lists a runtime twice")
        return v

    @field_validator("node_type_id", "driver_node_type_id")
    @classmethod
    def _node(cls, v: str | None) -> str | None:
        return None if v is None else _check_node_type(v)

    @field_validator("autotermination_minutes")
    @classmethod
    def _autotermination(cls, v: int) -> int:
        if v == 0:
            raise ValueError("disables auto-termination (idle clusters run forever); allowed: 10-10000 minutes")
        if not 10 <= v <= 10000:
            raise ValueError("is out of range; allowed: 10-10000 minutes (the Databricks limits)")
        return v

    @field_validator("spark_conf")
    @classmethod
    def _spark_conf(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not re.match(r"^spark\.[A-Za-z0-9_.]+$", key):
                raise ValueError(f"has key {key!r}; Spark settings start with 'spark.'")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> ComputeConfig:
        problems: list[tuple[str, Any, str]] = []
        if self.min_workers > self.max_workers:
            problems.append(("minWorkers", self.min_workers, f"is above maxWorkers {self.max_workers}"))
        elif self.max_dbus_per_hour < self.max_cluster_dbus:
            problems.append(("maxDbusPerHour", self.max_dbus_per_hour,
                             f"is below the largest allowed cluster's {self.max_cluster_dbus:g} DBU/h "
                             f"({self.max_workers} workers + driver); raise it or lower maxWorkers"))
        pool = self.instance_pool
        if pool is not None and pool.max_capacity < self.max_workers + 1:
            problems.append(("instancePool.maxCapacity", pool.max_capacity,
                             f"cannot hold one cluster at maxWorkers ({self.max_workers} workers + driver)"))
        if pool is not None and self.spot_instances:
            problems.append(("spotInstances", True, "is not allowed with an instancePool (pool nodes are "
                                                    "on demand; the pool decides availability)"))
        if problems:
            raise field_problems(problems)
        return self

    @model_validator(mode="after")
    def _ml_runtime_access_mode(self) -> ComputeConfig:
        # Databricks docs, "Standard compute requirements and limitations": Databricks Runtime for ML is not
        # supported on standard (USER_ISOLATION) compute; it runs on dedicated (SINGLE_USER) compute.
        ml = [key for key in self.runtime_versions if "-ml-" in key]
        if ml and self.data_security_mode != "SINGLE_USER":
            raise field_problems([("dataSecurityMode", self.data_security_mode,
                                   f"cannot run the ML runtime {ml[0]!r} (standard access mode does not support "
                                   "Databricks Runtime ML); allowed: 'SINGLE_USER'")])
        return self

    @property
    def driver_node_type(self) -> str:
        return self.driver_node_type_id or self.node_type_id

    @property
    def default_runtime(self) -> str:
        return self.runtime_versions[0]

    @property
    def runtime_engine(self) -> Literal["PHOTON", "STANDARD"]:
        return "PHOTON" if self.photon else "STANDARD"

    @property
    def max_cluster_dbus(self) -> float:
        """Nominal DBU/h of the largest cluster the policy allows (driver + maxWorkers, Photon included)."""
        nominal = dbus_per_node_hour(self.driver_node_type) + self.max_workers * dbus_per_node_hour(self.node_type_id)
        return nominal * (PHOTON_DBU_MULTIPLIER if self.photon else 1.0)
