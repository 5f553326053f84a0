"""Deploy readiness: what Azure and Databricks check only at `pulumi up` time, checked on the plan.

A plan that passes the security rules can still fail on its first `up`: an identity that may not do a
create, an endpoint nothing can reach, storage serverless compute cannot reach, an object created before
what it needs exists. Each rule here names the source of the behaviour it encodes.

- `reachability`: workspace-level calls reach the workspace from where the deploy runs; first-deploy order.
- `azure`: data-plane writes through ARM, private endpoints, soft-deleted names.
- `egress`: the route to the hub firewall goes live after the firewall's rules, before the workspace.
- `unity_catalog`: ownership and privileges of the deploying and run-as identities, serverless storage
  access, what one stack's teardown does to the others;
- `abac`: an ABAC policy's function is created (as code) before the policy.
"""

from __future__ import annotations

from infra.policy.rules.deploy import abac, azure, egress, reachability, unity_catalog

__all__ = ["abac", "azure", "egress", "reachability", "unity_catalog"]
