"""Who is who: the account groups of the access-control matrix's roles and the CI/CD service principal.

Roles are fixed keys (the seed's matrix); their group names come from config so organisations can map
them to groups synced from Entra ID.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems

Role = Literal["dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers"]
ROLES: tuple[Role, ...] = ("dataScientists", "mlEngineers", "devopsEngineers", "modelConsumers")

_GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"


class GroupsConfig(StrictModel):
    """Account-level group display names per role, plus the platform admins."""

    data_scientists: str = Field(default="mlops-data-scientists", pattern=_GROUP_NAME)
    ml_engineers: str = Field(default="mlops-ml-engineers", pattern=_GROUP_NAME)
    devops_engineers: str = Field(default="mlops-devops-engineers", pattern=_GROUP_NAME)
    model_consumers: str = Field(default="mlops-model-consumers", pattern=_GROUP_NAME)
    admins: str = Field(default="mlops-platform-admins", pattern=_GROUP_NAME)

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

    display_name: str = Field(default="databricks-cicd", pattern=_GROUP_NAME)
    # The Entra ID application (client) id of the principal; an identifier, not a secret.
    application_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    manage: bool = False
    from_stack: Literal["dev", "test", "prod"] | None = None
    # Account SCIM ids per role key (+ 'admins') of groups synced from Entra ID.
    ids: dict[str, str] | None = None

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
    application_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class IdentityConfig(StrictModel):
    groups: GroupsConfig = GroupsConfig()
    cicd_service_principal: ServicePrincipalConfig
    deployer: DeployerConfig
    account_groups: AccountGroupsConfig = AccountGroupsConfig()  # lookup (its validator's default)
    # More roles beyond the matrix's four, through config alone: role key -> account group display name.
    # Use the key in unityCatalog access maps like a built-in role.
    extra_roles: dict[str, str] = {}

    @model_validator(mode="after")
    def _roles(self) -> IdentityConfig:
        problems: list[tuple[str, Any, str]] = []
        for key, group in self.extra_roles.items():
            if not re.match(r"^[a-z][A-Za-z0-9]*$", key) or key in (*ROLES, "admins", "cicdServicePrincipal"):
                problems.append((f"extraRoles.{key}", group, "needs a new camelCase role key (not a built-in role)"))
            elif "@" in group or not re.match(_GROUP_NAME, group):
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
