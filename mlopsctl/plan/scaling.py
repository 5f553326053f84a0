"""Generated configs for the scaling benchmark: N served models per stack.

Each generated endpoint copies the stack's first deployable endpoint (entities, routes, gateway, monitor
with its drift alerts, permissions) under a new name, with its own inference table and monitored table.
"""

from __future__ import annotations

import copy
from typing import Any

KEY = "mlops-platform:serving"


def with_served_models(raw: dict[str, Any], stack: str, n: int) -> dict[str, Any]:
    """`raw` (a stack file's config mapping) with exactly N deployable, monitored endpoints."""
    serving = raw.get(KEY)
    if not serving or not serving.get("endpoints"):
        raise ValueError(f"{stack}: no serving endpoints to use as a template")
    template = next((e for e in serving["endpoints"] if e.get("modelRegistered", True)), None)
    if template is None:
        raise ValueError(f"{stack}: no deployable (modelRegistered) endpoint to use as a template")
    endpoints = []
    for i in range(n):
        endpoint = copy.deepcopy(template)
        endpoint["name"] = f"{stack}-model-{i:04d}"
        table = endpoint.get("inferenceTable")
        if table is not None:
            table["tablePrefix"] = f"model_{i:04d}_"
        monitor = endpoint.get("monitor")
        if monitor is not None:
            catalog, schema, name = monitor["tableName"].split(".")
            monitor["tableName"] = f"{catalog}.{schema}.{name}_{i:04d}"
            monitor["tableExists"] = True
        endpoints.append(endpoint)
    serving["endpoints"] = endpoints
    return raw
