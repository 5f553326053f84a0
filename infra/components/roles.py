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
    # Key Vault data-plane roles (RBAC vaults): Owner/Contributor carry no data actions.
    "Key Vault Crypto Officer": "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", subscription_id,
                                "/providers/Microsoft.Authorization/roleDefinitions/", ROLES[role])


def grant(name: str, *, role: str, scope: pulumi.Input[str], principal_id: pulumi.Input[str],
          subscription_id: pulumi.Input[str], parent: pulumi.Resource,
          depends_on: list[pulumi.Resource] | None = None,
          principal_type: authorization.PrincipalType = authorization.PrincipalType.SERVICE_PRINCIPAL,
          ) -> authorization.RoleAssignment:
    """A role assignment, by default for a service principal. principal_type is always set: Azure does not
    look the principal up in Entra ID then (a just-created managed identity may not have replicated yet), and
    azure-native would otherwise send 'User', which Azure refuses for any other kind (UnmatchedPrincipalType)."""
    return authorization.RoleAssignment(
        name, role_definition_id=role_definition_id(subscription_id, role), scope=scope,
        principal_id=principal_id, principal_type=principal_type,
        description=f"mlops-platform: {role}",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []))
