"""Validated value types of the config models, each defined once with its one error message.

Constraints are pydantic `Field`s inside `Annotated`, so the configuration reference still shows each
key's pattern and length; an optional key uses the `Optional...` variant, which keeps them visible too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra import naming

# The tier of a stack: what it may relax (dev, test) or must refuse (prod). Not its name.
Environment = Literal["dev", "test", "prod"]

# --- identifiers ---
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_UUID = Field(pattern=UUID_PATTERN)
Uuid = Annotated[str, _UUID]
OptionalUuid = Annotated[str | None, _UUID]

# --- e-mail ---
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def check_emails(values: list[str]) -> list[str]:
    """Every recipient list (budgets, monitors, alerts) goes through this one rule."""
    for address in values:
        if not EMAIL.match(address):
            raise ValueError(f"has {address!r}, which is not an e-mail address")
    return values


EmailList = Annotated[list[str], AfterValidator(check_emails)]


# --- CIDR ---
def ipv4_network(value: str) -> ipaddress.IPv4Network:
    """An IPv4 network written without host bits (the VNet and its subnets)."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError("is not a valid CIDR (e.g. '10.10.0.0/16')") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("is not an IPv4 CIDR; Azure Databricks VNet injection needs IPv4")
    if str(net) != value:
        raise ValueError(f"has host bits set; did you mean {str(net)!r}?")
    return net


def _ipv4_cidr(value: str) -> str:
    ipv4_network(value)
    return value


Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]


# --- names ---
def _azure_name(kind: str) -> Callable[[str], str]:
    """A validator for a name of Azure resource `kind` (limits in infra/naming.py)."""
    def check(value: str) -> str:
        problem = naming.check_name(kind, value)
        if problem:
            raise ValueError(problem)
        return value
    return check


SubnetName = Annotated[str, AfterValidator(_azure_name("subnet"))]
StorageAccountName = Annotated[str, AfterValidator(_azure_name("storageAccount"))]

# Account group display names (also the CI/CD principal's display name).
GROUP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$"
GroupName = Annotated[str, Field(pattern=GROUP_NAME_PATTERN)]

# Catalogs and schemas this program creates: lowercase, so names match what Unity Catalog stores.
UcName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=255)]
# Storage credentials and external locations (hyphens allowed).
_SECURABLE = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=255)
OptionalSecurableName = Annotated[str | None, _SECURABLE]
# A metastore, or a Pulumi organization or project.
OBJECT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

# Unity Catalog identifiers the program reads or writes into (existing catalogs, schemas, tables, metrics).
UC_IDENTIFIER_PATTERN = r"[A-Za-z_][A-Za-z0-9_]{0,254}"
UcIdentifier = Annotated[str, Field(pattern=rf"^{UC_IDENTIFIER_PATTERN}$")]
# Serving endpoints and their served entities: alphanumerics, dashes and underscores, at most 63 (API rule).
ServingName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]
