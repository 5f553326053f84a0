"""The environment's resource group (and, in prod, a CanNotDelete lock on it)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, resources


@dataclass(frozen=True)
class ResourceGroupArgs:
    name: str
    location: str
    tags: dict[str, str]
    lock: bool = False  # CanNotDelete lock: a delete of the group (and so of everything) is refused


class ResourceGroup(pulumi.ComponentResource):
    """mlops:platform:ResourceGroup: the group every other environment resource lives in."""

    name: pulumi.Output[str]
    id: pulumi.Output[str]

    def __init__(self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:ResourceGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = resources.ResourceGroup(
            name, resource_group_name=args.name, location=args.location, tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.lock))
        if args.lock:
            authorization.ManagementLockAtResourceGroupLevel(
                f"{name}-cannot-delete",
                resource_group_name=group.name,
                lock_name=f"{args.name}-cannot-delete",
                level=authorization.LockLevel.CAN_NOT_DELETE,
                notes="Production platform: remove this lock through a reviewed change only.",
                opts=child)
        self.name = group.name
        self.id = group.id
        self.register_outputs({"name": self.name, "id": self.id})
