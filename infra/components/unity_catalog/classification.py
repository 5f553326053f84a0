"""Classification: data classification on catalogs, governed tags (tag policies) and tag assignments.

- `DataClassificationCatalogConfig` turns on data classification for a catalog (workspace-level provider only;
  the caller needs ownership, or USE_CATALOG + MANAGE, of the catalog: the deployer owns it).
- `TagPolicy` declares a governed tag for the whole account. The provider manages it through the workspace
  client (terraform-provider-databricks internal/providers/pluginfw/products/tag_policy/resource_tag_policy.go:
  `GetWorkspaceClientForUnifiedProviderWithDiagnostics` then `client.TagPolicies`), so it names the workspace
  provider although it is account-wide: one stack declares it, protected and retained like the other
  account-wide objects, so that destroying a stack removes no other stack's tag.
- `EntityTagAssignment` puts one tag on one catalog or schema; it waits for the securable and, when this stack
  declares it, for the tag policy (a governed value is checked against the policy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.governance import GovernedTag, TagAssignment


@dataclass(frozen=True)
class ClassificationArgs:
    catalogs: Sequence[str]                      # catalogs to classify
    governed_tags: Mapping[str, GovernedTag]     # declared here (one stack per account)
    assignments: Sequence[TagAssignment]
    securables: Mapping[str, pulumi.Resource]    # "catalog" and "catalog.schema" -> the UC resource
    provider: dbx.Provider                       # the environment's workspace provider


def assignment_name(securable: str, key: str) -> str:
    return f"tag-{securable.replace('.', '-')}-{key}"


class Classification(pulumi.ComponentResource):
    """mlops:platform:Classification: classified catalogs, governed tags and tag assignments."""

    configs: dict[str, dbx.DataClassificationCatalogConfig]
    tag_policies: dict[str, dbx.TagPolicy]
    assignments: dict[tuple[str, str], dbx.EntityTagAssignment]

    def __init__(self, name: str, args: ClassificationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Classification", name, None, opts)
        self.configs, self.tag_policies, self.assignments = {}, {}, {}
        for catalog in args.catalogs:
            self.configs[catalog] = dbx.DataClassificationCatalogConfig(
                f"classification-{catalog}",
                parent=f"catalogs/{catalog}",
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[args.securables[catalog]]))
        for key, tag in args.governed_tags.items():
            self.tag_policies[key] = dbx.TagPolicy(
                f"tag-policy-{key}",
                tag_key=key,
                description=tag.description,
                values=[dbx.TagPolicyValueArgs(name=v) for v in tag.values],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=True,
                                            retain_on_delete=True))
        for assignment in args.assignments:
            for key, value in assignment.tags.items():
                depends: list[pulumi.Resource] = [args.securables[assignment.securable]]
                if key in self.tag_policies:
                    depends.append(self.tag_policies[key])
                self.assignments[(assignment.securable, key)] = dbx.EntityTagAssignment(
                    assignment_name(assignment.securable, key),
                    entity_type=assignment.entity_type,
                    entity_name=assignment.securable,
                    tag_key=key,
                    tag_value=value,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends))
        self.register_outputs({"classified": list(self.configs), "governedTags": list(self.tag_policies)})
