"""The sample values the stack files ship with, refused when the real engine runs the program.

The checked-in stack files carry realistic placeholders so that the offline plan, the tests and the policy
pack run as they are. Deployed, they fail late or harm: a documentation range in an IP access list locks the
deployer out of the workspace mid-run, an `example.com` recipient never hears an alert, a sample account id
fails authentication after the Azure resources exist, and the default prefix gives every adopter the same
globally unique storage and Key Vault names. The offline engine plans them; the real engine refuses them
before anything is declared, every one at once.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

# Documentation address blocks: RFC 5737 (IPv4) and RFC 3849 (IPv6); never routed on the internet.
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in
                               ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
# Domains reserved for examples: RFC 2606 (example.com/.net/.org and the .example top-level domain).
_EXAMPLE_MAIL = re.compile(r"@(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|[a-z0-9-]+\.example)$", re.IGNORECASE)
_NIL_UUID = "00000000-0000-0000-0000-000000000000"
# The sample ids in the checked-in stack files: account, application (client) and object ids, the metastore.
SHIPPED_SAMPLE_IDS = frozenset({
    "0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f",  # databricks.accountId
    "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "8d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a",  # dev principals
    "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e", "9e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b",  # test principals
    "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f", "af6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c",  # prod principals
    "2c4e6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c",  # prod's identity.deployer.objectId
    "9f1e2d3c-4b5a-4697-8879-6a5b4c3d2e1f",  # encryption.databricksServiceObjectId
    "6f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f",  # unityCatalog.metastore.id
})
DEFAULT_PREFIX = "mlops"
# Names that default from the prefix and must be unique across Azure (naming.GLOBAL_NAMESPACES, camelCase).
GLOBAL_NAME_KEYS = ("storageAccount", "dbfsStorageAccount", "keyVault")
_REPLACE = "replace it before a real preview or up"
_SHOWN = 60  # characters of a value a problem line shows


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def _documentation_range(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return next((doc for doc in DOCUMENTATION_NETWORKS
                 if doc.version == net.version and net.subnet_of(doc)), None)  # type: ignore[arg-type]


def why_sample(text: str) -> str | None:
    """Why a value is a placeholder, in words; None for a value of your own."""
    doc = _documentation_range(text)
    if doc is not None:
        return f"is in the documentation range {doc}, not a real network"
    if _EXAMPLE_MAIL.search(text):
        return "is at a domain reserved for examples"
    if _NIL_UUID in text:
        return "contains the all-zero id"
    if text.lower() in SHIPPED_SAMPLE_IDS:
        return "is a sample id shipped with the project"
    return None


def sample_value_problems(stack: str, ours: Mapping[str, Any]) -> list[str]:
    """One line per shipped placeholder in a stack's config (keys without the project namespace)."""
    problems = [f"{stack}: {path}: {_shown(text)} {why}; {_REPLACE}"
                for path, text in _leaves(ours, "") if (why := why_sample(text))]
    given = ours.get("naming")
    naming: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    defaulted = [key for key in GLOBAL_NAME_KEYS if key not in naming]
    if naming.get("prefix", DEFAULT_PREFIX) == DEFAULT_PREFIX and defaulted:
        problems.append(f"{stack}: naming.prefix: the default {DEFAULT_PREFIX!r} gives every adopter the same "
                        f"{', '.join(defaulted)} names, unique across Azure; set a prefix of your own")
    return problems


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN - 3] + "...")
