"""Offline answers for `pulumi.StackReference`: the outputs the referenced stack's own offline plan exports.

Mocked ids are deterministic (seeded by stack + type + logical name, see `PlatformMocks.new_resource`),
so the referenced stack's outputs that other stacks read are computed here from its stack file without
planning it (a nested mock run in one process would share the runtime's RPC bookkeeping and deadlock).
tests/test_unity_catalog_bindings.py checks that these values equal the referenced plan's outputs.
"""

from __future__ import annotations

from typing import Any

from mlopsctl.plan.ids import stable_digits, stable_uuid

STACK_REFERENCE = "pulumi:pulumi:StackReference"


def referenced_outputs(full_name: str) -> dict[str, Any]:
    """Outputs of the stack named `<org>/<project>/<stack>` that other stacks read."""
    from infra.config import PROJECT_DIR_VAR, StackConfig, read_stack_file
    from infra.config import _split_namespaces as split

    stack = full_name.rsplit("/", 1)[-1]
    ours, problems = split(stack, read_stack_file(stack, PROJECT_DIR_VAR.get()))
    if problems:
        raise LookupError(f"StackReference {full_name!r}: " + "; ".join(problems))
    config = StackConfig.model_validate(ours)
    # Same seeds as the mocks: the azure-native workspace is logical name "workspace", groups "group-<key>".
    outputs: dict[str, Any] = {
        "environment": config.environment,
        "workspaceNumericId": stable_digits(f"{stack}::azure-native:databricks:Workspace::workspace", 16),
    }
    metastore = config.unity_catalog.metastore
    if metastore.create:
        outputs["metastoreId"] = stable_uuid(f"{stack}::databricks:index/metastore:Metastore::metastore")
    elif metastore.id:
        outputs["metastoreId"] = metastore.id
    if config.identity.account_groups.manage:
        outputs["accountGroupIds"] = {
            key: stable_digits(f"{stack}::databricks:index/group:Group::group-{key}", 16)
            for key in config.identity.role_keys()}
    return outputs


def stack_reference_state(name: str) -> tuple[str, dict[str, Any]]:
    """(id, state) of a StackReference read, as the engine returns them."""
    return name, {"name": name, "outputs": referenced_outputs(name), "secretOutputNames": []}
