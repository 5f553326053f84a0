"""Who is who: the account groups of the access-control matrix's roles and the CI/CD service principal.

Roles are fixed keys (the seed's matrix); their group names come from config so organisations can map
them to groups synced from Entra ID.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import field_validator, model_validator

from infra.config.base import StrictModel, field_problems
from infra.config.types import GROUP_NAME_PATTERN, Environment, GroupName, Uuid

Role = Literal["dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers"]
ROLES: tuple[Role, ...] = ("dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers")


class GroupsConfig(StrictModel):
    """Account-level group display names per role, plus the platform admins."""

    data_scientists: GroupName = "mlops-data-scientists"
    """Account group display name of the data scientists role."""
    ml_engineers: GroupName = "mlops-ml-engineers"
    """Account group display name of the ML engineers role."""
    devops_engineers: GroupName = "mlops-devops-engineers"
    """Account group display name of the DevOps engineers role."""
    model_consumers: GroupName = "mlops-model-consumers"
    """Account group display name of the model consumers role (those who query served models)."""
    admins: GroupName = "mlops-platform-admins"
    """Account group display name of the platform admins; it gets MANAGE on the catalogs through the grants and may
    hold admin-only privileges."""

    @field_validator("*")
    @classmethod
    def _not_a_user(cls, v: str) -> str:
        if "@" in v:
            raise ValueError("looks like a user e-mail; grants and roles go to groups, never to individuals")
        return v

    def by_role(self) -> dict[Role, str]:
        return {"dataScientists": self.data_scientists, "mlEngineers": self.ml_engineers,
                "devopsEngineers": self.devops_engineers, "modelConsumers": self.model_consumers}


class ServicePrincipalConfig(StrictModel):
    """The environment's CI/CD service principal (the seed's `databricks-cicd`)."""

    display_name: GroupName = "databricks-cicd"
    """Display name of the environment's CI/CD service principal, which runs jobs and drift alerts."""
    # The Entra ID application (client) id of the principal; an identifier, not a secret.
    application_id: Uuid
    """Entra ID application (client) id of the CI/CD service principal; an identifier, not a secret. Must differ per
    stack and from identity.deployer.applicationId."""


class AccountGroupsConfig(StrictModel):
    """Where the account groups come from: looked up by name (Entra ID sync), by id, another stack, or created here.

    Account groups are account-wide and outlive any one environment, so no disposable stack may own them:
    `lookup: true` (the default, and every checked-in stack's) reads each group by display name with the
    account provider (groups synced from Entra ID by automatic identity management or SCIM), so no stack
    creates, and no `pulumi destroy` deletes, a group another stack grants to. `manage: true` creates them
    here (protected and retained on delete; refused outside a protected stack); `fromStack` reads the ids
    from the stack that manages them; `ids` takes the synced groups' account ids.
    """

    lookup: bool = False
    """Read each account group by display name (groups synced from Entra ID); the default, so no stack creates or
    deletes a shared group."""
    manage: bool = False
    """Create the account groups in this stack (protected and retained on delete); only allowed in a protected stack,
    and in one stack only."""
    from_stack: Environment | None = None
    """Read the account group ids from the outputs of the stack that manages them (needs
    unityCatalog.stackReferences)."""
    # Account SCIM ids per role key (+ 'admins') of groups synced from Entra ID.
    ids: dict[str, str] | None = None
    """Account SCIM ids of groups synced from Entra ID, per role key plus `admins`."""

    @model_validator(mode="before")
    @classmethod
    def _default_lookup(cls, v: Any) -> Any:
        # No source given: look the groups up by name (nothing account-wide is owned by a stack).
        if isinstance(v, dict) and not any(v.get(k) for k in ("lookup", "manage", "fromStack", "from_stack", "ids")):
            return {**v, "lookup": True}
        return v

    @model_validator(mode="after")
    def _one_source(self) -> AccountGroupsConfig:
        given = [k for k, v in (("lookup", self.lookup), ("manage", self.manage), ("fromStack", self.from_stack),
                                ("ids", self.ids)) if v]
        if len(given) > 1:  # none given is lookup (above)
            raise field_problems([("manage", self.manage, "set exactly one of accountGroups.lookup: true, "
                                   "accountGroups.manage: true, accountGroups.fromStack or accountGroups.ids; "
                                   f"got {given}")])
        if self.ids is not None:
            bad = [(f"ids.{k}", v, "is not an account group id (digits)") for k, v in self.ids.items()
                   if not v.isdigit()]
            if bad:
                raise field_problems(bad)
        return self


class DeployerConfig(StrictModel):
    """The principal that runs `pulumi up` for this stack (CI's federated identity): it owns what it creates."""

    # The Entra ID application (client) id of the deploying service principal (CI's AZURE_CLIENT_ID).
    # It keeps ownership of the Unity Catalog objects it creates and must not be the CI/CD principal.
    application_id: Uuid
    """Entra ID application (client) id of the principal that runs `pulumi up` (CI's AZURE_CLIENT_ID); it keeps
    ownership of the Unity Catalog objects it creates and must not be the CI/CD principal."""
    object_id: Uuid | None = None
    """Entra ID object id of that principal (`az ad sp show --id <applicationId> --query id -o tsv`): the principal of
    its Key Vault data-role grant on a stack with customer-managed keys, where it is required. Taken from config, not
    from whoever runs the program, so a preview or drift check under another identity plans no change."""


class IdentityConfig(StrictModel):
    groups: GroupsConfig = GroupsConfig()
    """Account group display names per role of the access-control matrix, plus the platform admins."""
    cicd_service_principal: ServicePrincipalConfig
    """The environment's CI/CD service principal (the seed's `databricks-cicd`), registered in the account by this
    stack."""
    deployer: DeployerConfig
    """The principal that runs `pulumi up` for this stack (CI's federated identity)."""
    account_groups: AccountGroupsConfig = AccountGroupsConfig()  # lookup (its validator's default)
    """Where the account groups come from: looked up by name (default), created here, read from another stack, or given
    by id; set exactly one."""
    # More roles beyond the matrix's four, through config alone: role key -> account group display name.
    # Use the key in unityCatalog access maps like a built-in role.
    extra_roles: dict[str, str] = {}
    """Roles beyond the matrix's four: role key -> account group display name; use the key in unityCatalog access maps
    like a built-in role."""

    @model_validator(mode="after")
    def _roles(self) -> IdentityConfig:
        problems: list[tuple[str, Any, str]] = []
        for key, group in self.extra_roles.items():
            if not re.match(r"^[a-z][A-Za-z0-9]*$", key) or key in (*ROLES, "admins", "cicdServicePrincipal"):
                problems.append((f"extraRoles.{key}", group, "needs a new camelCase role key (not a built-in role)"))
            elif "@" in group or not re.match(GROUP_NAME_PATTERN, group):
                problems.append((f"extraRoles.{key}", group, "is not an account group name (roles map to groups, "
                                 "never to individuals)"))
        if self.deployer.application_id == self.cicd_service_principal.application_id:
            # The deploying principal already exists in the account, so registering it again as the CI/CD
            # principal fails ("Service principal with application ID ... already exists", scim/
            # resource_service_principal.go), and `force` would adopt it: a destroy then deactivates the
            # identity running the destroy. It would also run every job and alert as the owner of every object.
            problems.append(("cicdServicePrincipal.applicationId", self.cicd_service_principal.application_id,
                             "is the deploying principal (identity.deployer.applicationId); the CI/CD principal "
                             "that runs jobs and alerts must be a separate, least-privilege service principal"))
        ids = self.account_groups.ids
        if ids is not None:
            expected = self.role_keys()
            problems += [(f"accountGroups.ids.{k}", v, f"is not a role key; allowed: {', '.join(expected)}")
                         for k, v in ids.items() if k not in expected]
            missing = [k for k in expected if k not in ids]
            if missing:
                problems.append(("accountGroups.ids", sorted(ids), f"lacks {', '.join(missing)}"))
        if problems:
            raise field_problems(problems)
        return self

    def role_keys(self) -> list[str]:
        """Every role key with an account group: the matrix's four, config's extra roles, admins."""
        return [*ROLES, *self.extra_roles, "admins"]

    def group_names(self) -> dict[str, str]:
        names: dict[str, str] = {str(k): v for k, v in self.groups.by_role().items()}
        return {**names, **self.extra_roles, "admins": self.groups.admins}

    def principal_name(self, key: str) -> str:
        """A principal key from config -> the name Unity Catalog knows (group display name or application id)."""
        groups = self.group_names()
        if key in groups:
            return groups[key]
        if key == "cicdServicePrincipal":
            return self.cicd_service_principal.application_id
        return key
