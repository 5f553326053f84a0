"""Model serving endpoints: served UC model versions, traffic split, AI Gateway, permissions.

The Serving component is the umbrella of the area: it declares the endpoints and composes the monitors
(monitoring.py), the drift alerts (alerts.py) and the drift -> retrain jobs (retraining.py) as children.
Endpoints whose model is not registered yet (`modelRegistered: false`) are not declared; they are listed
in `pending` (stack output `servingPending`) and logged as a warning, so the plan says why they are missing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_databricks as dbx

from infra.components.job_code import JobCode, JobCodeArgs
from infra.components.serverless_network import ServerlessNetwork
from infra.components.serving.alerts import DriftAlerts, DriftAlertsArgs
from infra.components.serving.monitoring import Monitoring, MonitoringArgs
from infra.components.serving.retraining import Retraining, RetrainingArgs
from infra.config.serving import Endpoint, ServedEntity, ServingConfig


@dataclass(frozen=True)
class ServingArgs:
    config: ServingConfig
    stack: str  # the environment's name (its stack); names and comments use it
    provider: dbx.Provider                      # the environment's workspace provider
    consumers_group: str                        # CAN_QUERY on every endpoint
    cicd_application_id: str                    # CAN_MANAGE; runs the alerts and the retrain jobs
    ml_engineers_group: str                     # may run the retrain jobs
    data_scientists_group: str                  # may view the retrain jobs
    warehouse_id: pulumi.Input[str]             # SQL warehouse the drift alerts run on
    # "catalog.schema" -> the UC schema resource: endpoints/monitors wait for what they write into.
    schemas: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    webhook_url: pulumi.Input[str] | None = None  # secret
    # "catalog.schema.model" -> its RegisteredModel: an alias is read from the model once it exists.
    models: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    # The NCC through which serverless compute reaches the lakes: every serverless consumer (endpoint, monitor,
    # alert, serverless job) waits for its ready(), asked for only once one is declared (it reads the lakes).
    serverless_network: ServerlessNetwork | None = None
    # The groups and the CI/CD principal in the workspace, its UC grants. Everything else here waits for the
    # endpoints, so only endpoints and their permissions wait for these directly.
    depends_on: Sequence[pulumi.Resource] = ()


# Tag of an endpoint whose monitor waits for its table (rollout phase 1): policy checks and people can see it.
MONITOR_PENDING_TAG = ("monitoring", "pending")


def endpoint_tags(tags: Mapping[str, str], git_sha: str, monitor_pending: bool = False,
                  ) -> list[dbx.ModelServingTagArgs]:
    merged = {**tags, "gitSha": git_sha}
    if monitor_pending:
        merged[MONITOR_PENDING_TAG[0]] = MONITOR_PENDING_TAG[1]
    return [dbx.ModelServingTagArgs(key=k, value=v) for k, v in sorted(merged.items())]


class Serving(pulumi.ComponentResource):
    """mlops:platform:Serving: this environment's endpoints, their monitors, alerts and retrain jobs."""

    endpoints: dict[str, dbx.ModelServing]
    permissions: dict[str, dbx.Permissions]
    pending: list[dict[str, str]]
    monitoring: Monitoring
    alerts: DriftAlerts
    retraining: Retraining | None

    def __init__(self, name: str, args: ServingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Serving", name, None, opts)
        cfg = args.config
        self.endpoints, self.permissions, self.pending = {}, {}, []
        self.versions: dict[tuple[str, str], pulumi.Input[str]] = {}  # (endpoint, entity) -> served version
        network = self._network(args)
        for ep in cfg.endpoints:
            if not ep.deployable:
                reason = (f"modelRegistered is false: register {ep.entities[0].entity_name} "
                          f"{', '.join(e.pinned for e in ep.entities)} first, then set it to true")
                self.pending.append({"name": ep.name, "reason": reason})
                pulumi.log.warn(f"serving endpoint {ep.name} skipped: {reason}", resource=self)
                continue
            self.endpoints[ep.name] = self._endpoint(ep, args, network())
            self.permissions[ep.name] = dbx.Permissions(
                f"{ep.name}-permissions",
                serving_endpoint_id=self.endpoints[ep.name].serving_endpoint_id,
                access_controls=[
                    dbx.PermissionsAccessControlArgs(group_name=args.consumers_group, permission_level="CAN_QUERY"),
                    dbx.PermissionsAccessControlArgs(service_principal_name=args.cicd_application_id,
                                                     permission_level="CAN_MANAGE"),
                ],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)))

        monitored = [ep for ep in cfg.endpoints if ep.monitored]
        for ep in cfg.endpoints:
            if ep.deployable and ep.monitor and not ep.monitor.table_exists:
                reason = (f"monitor.tableExists is false: {ep.monitor.table_name} must exist first (phase 2 of "
                          "the rollout); its monitor, drift alerts and retrain job wait")
                self.pending.append({"name": ep.name, "reason": reason})
                pulumi.log.warn(f"monitor of {ep.name} skipped: {reason}", resource=self)

        child = pulumi.ResourceOptions(parent=self)
        ready = network() if monitored else []
        self.monitoring = Monitoring(f"{name}-monitoring", MonitoringArgs(
            endpoints=monitored, endpoint_resources=self.endpoints, provider=args.provider,
            warehouse_id=args.warehouse_id, schemas=args.schemas, depends_on=ready), opts=child)
        self.alerts = DriftAlerts(f"{name}-alerts", DriftAlertsArgs(
            stack=args.stack, endpoints=monitored, monitors=self.monitoring.monitors,
            notifications=cfg.notifications, webhook_url=args.webhook_url, provider=args.provider,
            warehouse_id=args.warehouse_id, run_as_application_id=args.cicd_application_id,
            depends_on=ready), opts=child)
        self.retraining = None
        self.job_code: JobCode | None = None
        if cfg.retraining and cfg.retraining.enabled and monitored:
            # The validate and promote tasks run the repo's jobs/promotion.py, uploaded with this deploy.
            self.job_code = JobCode(f"{name}-job-code", JobCodeArgs(
                modules=["promotion"], provider=args.provider, depends_on=list(args.depends_on)), opts=child)
            self.retraining = Retraining(f"{name}-retraining", RetrainingArgs(
                config=cfg.retraining, endpoints=monitored, monitors=self.monitoring.monitors,
                provider=args.provider, run_as_application_id=args.cicd_application_id,
                ml_engineers_group=args.ml_engineers_group, data_scientists_group=args.data_scientists_group,
                tags={**args.tags, "gitSha": cfg.git_sha},
                promotion_file=self.job_code.paths["promotion"], notify_emails=tuple(cfg.notifications.emails),
                notify_destination_ids=tuple(d.id for kind, d in self.alerts.destinations.items() if kind != "email"),
                depends_on=[*ready, *self.job_code.files.values()]), opts=child)

        self.register_outputs({"endpoints": list(self.endpoints), "pending": self.pending})

    @staticmethod
    def _network(args: ServingArgs) -> Callable[[], list[pulumi.Input[pulumi.Resource]]]:
        """The serverless gate, asked for only when a consumer is declared (a first deploy declares none)."""
        def ready() -> list[pulumi.Input[pulumi.Resource]]:
            return list(args.serverless_network.ready()) if args.serverless_network else []
        return ready

    def _endpoint(self, ep: Endpoint, args: ServingArgs,
                  network_ready: Sequence[pulumi.Input[pulumi.Resource]]) -> dbx.ModelServing:
        cfg = args.config
        table = ep.inference_table
        # The schemas it logs into and serves models from, then the principals and grants, then the network
        # path from serverless compute to the lake that holds the model (else: 45 minutes, then deleted).
        wanted = {table.full_schema} if table.enabled else set()
        wanted |= {e.entity_name.rsplit(".", 1)[0] for e in ep.entities}
        depends: list[pulumi.Input[pulumi.Resource]] = [args.schemas[s] for s in sorted(wanted) if s in args.schemas]
        depends += [*args.depends_on, *network_ready]
        traffic = ep.traffic
        versions = {e.name: self._served_version(e, ep, args) for e in ep.entities}
        return dbx.ModelServing(
            ep.name,
            name=ep.name,
            config=dbx.ModelServingConfigArgs(
                served_entities=[dbx.ModelServingConfigServedEntityArgs(
                    name=entity.name,
                    entity_name=entity.entity_name,
                    entity_version=versions[entity.name],
                    workload_size=cfg.resolved_size(entity),
                    workload_type=entity.workload_type,
                    scale_to_zero_enabled=cfg.resolved_scale_to_zero(entity),
                ) for entity in ep.entities],
                traffic_config=dbx.ModelServingConfigTrafficConfigArgs(routes=[
                    dbx.ModelServingConfigTrafficConfigRouteArgs(
                        served_entity_name=entity.name, traffic_percentage=traffic[entity.name])
                    for entity in ep.entities]),
            ),
            # AI Gateway inference tables replace the retired config.auto_capture_config.
            ai_gateway=dbx.ModelServingAiGatewayArgs(
                inference_table_config=dbx.ModelServingAiGatewayInferenceTableConfigArgs(
                    enabled=table.enabled, catalog_name=table.catalog, schema_name=table.schema_name,
                    table_name_prefix=table.table_prefix),
                usage_tracking_config=dbx.ModelServingAiGatewayUsageTrackingConfigArgs(enabled=ep.usage_tracking),
                rate_limits=[dbx.ModelServingAiGatewayRateLimitArgs(
                    calls=limit.calls, key=limit.key, principal=limit.principal,
                    renewal_period=limit.renewal_period) for limit in ep.rate_limits] or None,
            ),
            tags=endpoint_tags(args.tags, cfg.git_sha, monitor_pending=ep.monitor is not None and not ep.monitored),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends))


    def _served_version(self, entity: ServedEntity, ep: Endpoint, args: ServingArgs) -> pulumi.Input[str]:
        """A pinned version as is; an alias resolved now, from the registry, so the plan shows the version and
        a moved alias reaches the endpoint only through `pulumi up` (never behind the program's back)."""
        if entity.entity_version is not None:
            self.versions[(ep.name, entity.name)] = str(entity.entity_version)
            return str(entity.entity_version)
        model = args.models.get(entity.entity_name)
        info = dbx.get_registered_model_output(
            full_name=entity.entity_name, include_aliases=True,
            opts=pulumi.InvokeOutputOptions(provider=args.provider, depends_on=[model] if model else None))
        version = info.apply(functools.partial(alias_version, entity.entity_name, str(entity.entity_alias),
                                               f"{ep.name}/{entity.name}"))
        self.versions[(ep.name, entity.name)] = version
        return version


def alias_version(model: str, alias: str, where: str, info: Any) -> str:
    """The version `alias` names in a getRegisteredModel result; a clear error when no version carries it."""
    infos = getattr(info, "model_infos", None) or []
    aliases = {str(a.alias_name).lower(): a.version_num for i in infos for a in (i.aliases or [])}
    version = aliases.get(alias.lower())
    if version is None:
        raise ValueError(f"serving endpoint entity {where}: no version of {model} carries the alias {alias!r} "
                         f"(aliases set: {', '.join(sorted(aliases)) or 'none'}); let the retrain job promote one, "
                         "or pin entityVersion")
    return str(version)


def serving_outputs(serving: Serving | None, config: ServingConfig | None) -> dict[str, Any]:
    """Stack outputs of the area (shared contract): servingEndpoints, monitors, and servingPending."""
    if serving is None or config is None:
        return {"servingEndpoints": [], "monitors": [], "servingPending": []}
    endpoints = [{
        "name": ep.name,
        "entities": [{"name": e.name, "entityName": e.entity_name,
                      "entityVersion": serving.versions[(ep.name, e.name)]} for e in ep.entities],
        "inferenceTable": {"catalog": ep.inference_table.catalog, "schema": ep.inference_table.schema_name,
                           "tablePrefix": ep.inference_table.table_prefix},
    } for ep in config.endpoints if ep.name in serving.endpoints]
    monitors = [{"tableName": ep.monitor.table_name, "outputSchema": ep.monitor.output_schema_full,
                 "endpoint": ep.name}
                for ep in config.endpoints if ep.monitor and ep.name in serving.monitoring.monitors]
    return {"servingEndpoints": endpoints, "monitors": monitors, "servingPending": serving.pending}
