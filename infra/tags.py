"""Tags applied to every taggable resource, in one place."""

from __future__ import annotations

from collections.abc import Mapping

REQUIRED_TAG_KEYS = ("environment", "project", "owner", "costCenter")


def platform_tags(environment: str, project: str, owner: str, cost_center: str,
                  extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The required tags first; `extra` may add keys but never override the required ones."""
    tags = {**(extra or {})}
    tags.update({"environment": environment, "project": project, "owner": owner, "costCenter": cost_center,
                 "managedBy": "pulumi"})
    return tags
