"""AbacPolicies: row filters and column masks over governed tags, and the SQL functions they call.

- One `SqlFunction` per function the policies name, created from `infra/sql/abac/<kind>/<function>.sql` in
  `governance.abac.functionSchema` during `pulumi up` (sql_function.py). It waits for its schema, the SQL warehouse
  it runs on, the grants and the workspace provider (a private front end is reachable once that one is).
- One `PolicyInfo` per policy, on the catalog or schema, for every table under it, matching the columns that carry
  one of the policy's tag values (`has_tag_value(key, value)`). It applies to `account users` except the unmasked
  groups and the CI/CD principal the platform's pipelines run as. It waits for its function and, when this stack
  declares it, for the governed tag.

Privileges (Databricks docs, "Create and manage row filter and column mask policies", Requirements): creating a
policy needs MANAGE on, or ownership of, the securable it is attached to, and EXECUTE on the function. The deployer
owns the catalogs it creates and the functions it creates here (an owner holds every privilege), so no grant is
added. The policy type strings and fields are the provider's (pulumi-databricks 1.118.0 `PolicyInfo`,
terraform-provider-databricks `databricks_policy_info`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.components.unity_catalog.sql_function import SqlFunction
from infra.config.abac import FILTERS_DIR, MASKS_DIR, AbacConfig, AbacPolicy

ALL_USERS = "account users"  # the account's built-in group of every user
ALIAS = "tagged"             # the matched column, as the policy passes it to the function


@dataclass(frozen=True)
class AbacPoliciesArgs:
    config: AbacConfig
    stack: str
    securables: Mapping[str, pulumi.Resource]        # "catalog" / "catalog.schema" -> the UC resource
    warehouse_id: pulumi.Input[str]                  # where the functions' statements run
    workspace_host: pulumi.Input[str]                # https://adb-....azuredatabricks.net
    workspace_resource_id: pulumi.Input[str]         # the workspace's ARM id (Azure auth)
    auth_type: str | None                            # databricks.authType; None: what the environment offers
    except_principals: Sequence[str]                 # unmasked groups + the CI/CD principal's application id
    provider: dbx.Provider                           # the environment's workspace provider
    tag_policy: pulumi.Resource | None = None        # the governed tag, when this stack declares it
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()  # the warehouse, the grants


def match_condition(key: str, values: Sequence[str]) -> str:
    """has_tag_value('classification', 'pii') OR has_tag_value('classification', 'phi')."""
    return " OR ".join(f"has_tag_value('{key}', '{v}')" for v in values)


def policy_resource_name(policy: AbacPolicy) -> str:
    return f"abac-{policy.securable.replace('.', '-')}-{policy.name}"


class AbacPolicies(pulumi.ComponentResource):
    """mlops:platform:AbacPolicies: the mask and filter functions, and the ABAC policies that call them."""

    functions: dict[str, SqlFunction]
    policies: dict[str, dbx.PolicyInfo]

    def __init__(self, name: str, args: AbacPoliciesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:AbacPolicies", name, None, opts)
        cfg = args.config
        self.functions, self.policies = {}, {}
        for function, kind in sorted(cfg.functions().items()):
            folder = MASKS_DIR if kind == "column_mask" else FILTERS_DIR
            self.functions[function] = SqlFunction(
                f"{args.stack}-function-{function}", sql_file=folder / f"{function}.sql",
                full_name=cfg.function_name(function), warehouse_id=args.warehouse_id, host=args.workspace_host,
                azure_workspace_resource_id=args.workspace_resource_id, auth_type=args.auth_type,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[
                    args.securables[cfg.function_schema], args.provider, *args.depends_on]))
        except_principals = sorted(set(args.except_principals))
        for kind, policies in (("COLUMN_MASK", cfg.column_masks), ("ROW_FILTER", cfg.row_filters)):
            for policy in policies:
                function = cfg.function_name(policy.function)
                depends: list[pulumi.Input[pulumi.Resource]] = [
                    self.functions[policy.function], args.securables[policy.securable], *args.depends_on]
                if args.tag_policy is not None:
                    depends.append(args.tag_policy)
                self.policies[policy_resource_name(policy)] = dbx.PolicyInfo(
                    policy_resource_name(policy),
                    name=policy.name,
                    comment=f"{kind.replace('_', ' ').lower()} on columns tagged {cfg.tag_key}: "
                            f"{', '.join(policy.tag_values)} (deployed by the platform)",
                    policy_type=f"POLICY_TYPE_{kind}",
                    on_securable_type="SCHEMA" if "." in policy.securable else "CATALOG",
                    on_securable_fullname=policy.securable,
                    for_securable_type="TABLE",
                    to_principals=[ALL_USERS],
                    except_principals=except_principals,
                    match_columns=[dbx.PolicyInfoMatchColumnArgs(
                        condition=match_condition(cfg.tag_key, policy.tag_values), alias=ALIAS)],
                    column_mask=dbx.PolicyInfoColumnMaskArgs(function_name=function, on_column=ALIAS)
                    if kind == "COLUMN_MASK" else None,
                    row_filter=dbx.PolicyInfoRowFilterArgs(
                        function_name=function, usings=[dbx.PolicyInfoRowFilterUsingArgs(alias=ALIAS)])
                    if kind == "ROW_FILTER" else None,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends))
        self.register_outputs({"functions": [cfg.function_name(f) for f in self.functions],
                               "policies": list(self.policies)})
