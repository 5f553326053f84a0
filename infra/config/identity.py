"""Who is who: the account groups of the access-control matrix's roles and the CI/CD service principal.

Roles are fixed keys (the seed's matrix); their group names come from config so organisations can map
them to groups synced from Entra ID.
"""

from __future__ import annotations

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
    """Where the account groups come from: created here (one stack), another stack's output, or Entra ID sync.

    Account groups are account-wide, so exactly one stack creates them; the others read their ids from
    that stack's `accountGroupIds` output, or take the ids of groups synced from Entra ID.
    """

    manage: bool = False
    from_stack: Literal["dev", "test", "prod"] | None = None
    # Account SCIM ids per role key (+ 'admins') of groups synced from Entra ID.
    ids: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AccountGroupsConfig:
        given = [k for k, v in (("manage", self.manage), ("fromStack", self.from_stack), ("ids", self.ids)) if v]
        if len(given) != 1:
            raise field_problems([("manage", self.manage, "set exactly one of accountGroups.manage: true, "
                                   f"accountGroups.fromStack or accountGroups.ids; got {given or 'none'}")])
        if self.ids is not None:
            expected = [*ROLES, "admins"]
            problems: list[tuple[str, Any, str]] = []
            for key, value in self.ids.items():
                if key not in expected:
                    problems.append((f"ids.{key}", value, f"is not a role key; allowed: {', '.join(expected)}"))
                elif not value.isdigit():
                    problems.append((f"ids.{key}", value, "is not an account group id (digits)"))
            missing = [k for k in expected if k not in self.ids]
            if missing:
                problems.append(("ids", sorted(self.ids), f"lacks {', '.join(missing)}"))
            if problems:
                raise field_problems(problems)
        return self


class IdentityConfig(StrictModel):
    groups: GroupsConfig = GroupsConfig()
    cicd_service_principal: ServicePrincipalConfig
    account_groups: AccountGroupsConfig = AccountGroupsConfig(manage=True)
