"""Explicit Databricks providers: one account-level, one for this environment's workspace.

The default Databricks provider is disabled (pulumi:disable-default-providers in each stack file), so no
Databricks resource can silently reach whatever workspace the ambient credentials point at. Credentials
come from the environment: the Azure CLI locally, OIDC in CI (ARM_USE_OIDC / ACTIONS_ID_TOKEN_REQUEST_*),
never from stack files.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.databricks import DatabricksConfig


@dataclass(frozen=True)
class DatabricksProvidersArgs:
    config: DatabricksConfig
    workspace_url: pulumi.Input[str]          # adb-<id>.<n>.azuredatabricks.net (the workspace's output)
    workspace_resource_id: pulumi.Input[str]  # the workspace's ARM id
    # What a call to the workspace needs besides the workspace: with a private front end, the endpoint serving
    # it, its DNS record, and the route from the deploy runner (hub peerings, the zone's link to the hub).
    wait_for: tuple[pulumi.Resource, ...] = ()


class DatabricksProviders(pulumi.ComponentResource):
    """mlops:platform:DatabricksProviders: the account provider and the workspace provider."""

    account: dbx.Provider
    workspace: dbx.Provider

    def __init__(self, name: str, args: DatabricksProvidersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:DatabricksProviders", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        self.account = dbx.Provider(
            f"{name}-account", host=cfg.account_host, account_id=cfg.account_id,
            auth_type=cfg.auth_type, opts=child)
        # Built from the workspace's outputs: unknown at the first preview, so nothing may *read* through it
        # (no invokes) in the run that creates the workspace. Every resource that uses a provider waits for
        # the provider, and the provider for its dependencies: `wait_for` here holds back every
        # workspace-level create until the workspace is reachable (a private front end answers 403 before).
        self.workspace = dbx.Provider(
            f"{name}-workspace",
            host=pulumi.Output.concat("https://", args.workspace_url),
            azure_workspace_resource_id=args.workspace_resource_id,
            auth_type=cfg.auth_type, opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.wait_for)))
        self.register_outputs({})
