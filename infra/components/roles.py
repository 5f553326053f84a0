"""Azure built-in role ids and one way to grant them (to service principals / managed identities)."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

# Built-in role definition GUIDs (identical in every tenant).
ROLES: dict[str, str] = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "EventGrid EventSubscription Contributor": "428e0ff0-5e57-4d9c-a221-2c70d0e0a443",
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
}


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", subscription_id,
                                "/providers/Microsoft.Authorization/roleDefinitions/", ROLES[role])


def grant(name: str, *, role: str, scope: pulumi.Input[str], principal_id: pulumi.Input[str],
          subscription_id: pulumi.Input[str], parent: pulumi.Resource,
          depends_on: list[pulumi.Resource] | None = None) -> authorization.RoleAssignment:
    """A role assignment for a service principal. principal_type is set so Azure does not look the
    principal up in Entra ID (a just-created managed identity may not have replicated yet)."""
    return authorization.RoleAssignment(
        name, role_definition_id=role_definition_id(subscription_id, role), scope=scope,
        principal_id=principal_id, principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
        description=f"mlops-platform: {role}",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []))
