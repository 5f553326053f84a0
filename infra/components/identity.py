"""Account identity: the matrix's groups, the CI/CD service principal, and who may enter this workspace.

Groups are account-level and outlive every environment, so by default no stack owns them: each stack looks
them up by display name with the account provider (groups synced from Entra ID). That read works at preview
because the account provider's host and account id are config, unlike the workspace provider, whose host is
an output of the workspace this run may create. A stack that does create them (`accountGroups.manage`, only
allowed in a protected stack) marks them protect + retain_on_delete: a destroy of that stack must not delete
the groups the other stacks grant to. Workspace access is an account-level permission assignment, which needs
the workspace to be identity-federated, i.e. to have its metastore assigned first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.identity import AccountGroupsConfig, IdentityConfig


@dataclass(frozen=True)
class AccountIdentityArgs:
    config: IdentityConfig
    workspace_roles: list[str]  # role keys that get USER on this workspace (from the matrix)
    workspace_numeric_id: pulumi.Input[str]
    account_provider: dbx.Provider
    metastore_assignment: pulumi.Resource
    group_ids_from_stack: pulumi.Output[dict[str, str]] | None = None  # accountGroupIds of the owning stack


class AccountIdentity(pulumi.ComponentResource):
    """mlops:platform:AccountIdentity: groups, the CI/CD principal, workspace permission assignments."""

    group_names: dict[str, str]
    group_ids: dict[str, pulumi.Output[str]]
    groups: dict[str, dbx.Group]
    service_principal: dbx.ServicePrincipal
    assignments: dict[str, dbx.MwsPermissionAssignment]

    def __init__(self, name: str, args: AccountIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:AccountIdentity", name, None, opts)
        cfg = args.config
        account = pulumi.ResourceOptions(parent=self, provider=args.account_provider)
        self.group_names = cfg.group_names()
        self.groups = {}
        self.group_ids = self._group_ids(cfg.account_groups, args, account)

        sp_cfg = cfg.cicd_service_principal
        self.service_principal = dbx.ServicePrincipal(
            "cicd-service-principal", application_id=sp_cfg.application_id, display_name=sp_cfg.display_name,
            # Account level: deactivate instead of delete, so a removed stack does not break other references.
            disable_as_user_deletion=True,
            # ...and so a `destroy` then `up` finds it deactivated, not gone: adopt it instead of failing with
            # "Service principal with application ID ... already exists" (scim/resource_service_principal.go,
            # `force`). Safe because the validator refuses a CI/CD principal that is also the deployer.
            force=True, opts=account)

        after_assignment = pulumi.ResourceOptions(parent=self, provider=args.account_provider,
                                                  depends_on=[args.metastore_assignment, *self.groups.values()])
        self.assignments = {}
        for key in [*args.workspace_roles, "admins"]:
            self.assignments[key] = dbx.MwsPermissionAssignment(
                f"workspace-access-{key}", workspace_id=args.workspace_numeric_id, principal_id=self.group_ids[key],
                permissions=["ADMIN" if key == "admins" else "USER"], opts=after_assignment)
        self.assignments["cicdServicePrincipal"] = dbx.MwsPermissionAssignment(
            "workspace-access-cicd", workspace_id=args.workspace_numeric_id, principal_id=self.service_principal.id,
            permissions=["USER"], opts=after_assignment)
        self.register_outputs({"groupNames": self.group_names})

    def _group_ids(self, source: AccountGroupsConfig, args: AccountIdentityArgs,
                   account: pulumi.ResourceOptions) -> dict[str, pulumi.Output[str]]:
        if source.lookup:
            # scim/data_group.go: at account level, read by display name (then by id for the members).
            invoke = pulumi.InvokeOptions(provider=args.account_provider, parent=self)
            return {key: dbx.get_group_output(display_name=name, opts=invoke).id
                    for key, name in self.group_names.items()}
        if source.manage:
            # Account-wide: never deleted by this stack's destroy, nor by removing it from the program.
            keep = pulumi.ResourceOptions.merge(account, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
            for key in self.group_names:
                self.groups[key] = dbx.Group(f"group-{key}", display_name=self.group_names[key], opts=keep)
            return {key: group.id for key, group in self.groups.items()}
        if source.ids is not None:
            return {key: pulumi.Output.from_input(source.ids[key]) for key in self.group_names}
        if args.group_ids_from_stack is None:
            raise ValueError("accountGroups.fromStack needs the owning stack's accountGroupIds output")
        ids = args.group_ids_from_stack
        return {key: ids.apply(lambda d, k=key: str(d[k])) for key in self.group_names}  # type: ignore[misc]
