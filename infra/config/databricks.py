"""Where the Databricks account is and how the providers authenticate (never with secrets in stack files)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infra.config.base import StrictModel
from infra.config.types import Uuid


class DatabricksConfig(StrictModel):
    """The Databricks account (for account-level resources: metastore assignment, groups, principals)."""

    account_id: Uuid = Field(description="Databricks account id (a UUID; not a secret)")
    account_host: Literal["https://accounts.azuredatabricks.net"] = "https://accounts.azuredatabricks.net"
    """The Databricks account console URL the account-level provider talks to (Azure's only)."""
    # None: the provider picks up whatever the environment offers (Azure CLI, OIDC, managed identity).
    auth_type: Literal["azure-cli", "github-oidc-azure", "azure-msi", "azure-client-secret"] | None = None
    """How the Databricks providers authenticate; unset lets the provider use whatever the environment offers (Azure
    CLI, OIDC, managed identity). Never a secret in the stack file."""
