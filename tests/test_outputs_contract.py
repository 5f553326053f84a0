"""The stack outputs contract (infra/outputs.py): what the program exports is what the readers expect."""

from __future__ import annotations

import pytest

from infra.outputs import KEYS, REQUIRED, unknown_keys
from mlopsctl.plan.stack_refs import referenced_outputs
from tests.support import STACKS, plan_of


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_exports_the_contract_and_nothing_else(stack: str) -> None:
    exported = set(plan_of(stack).outputs)
    assert REQUIRED - exported == set(), "a key the readers rely on is missing"
    assert unknown_keys(plan_of(stack).outputs) == [], "a key the contract does not name: add it to StackOutputs"


def test_a_key_outside_the_contract_is_named() -> None:
    assert unknown_keys({"workspaceHost": "x", "workspaceHots": "y"}) == ["workspaceHots"]


def test_the_only_optional_key_is_the_account_group_ids() -> None:
    assert {"accountGroupIds"} == KEYS - REQUIRED


@pytest.mark.parametrize("stack", STACKS)
def test_what_another_stack_reads_is_in_the_contract_and_equals_the_plan(stack: str) -> None:
    """The offline answer to a StackReference is computed without planning the stack: it must agree."""
    read = referenced_outputs(f"organization/mlops-platform/{stack}")
    assert unknown_keys(read) == []
    outputs = plan_of(stack).outputs
    assert {k: outputs.get(k) for k in read if k != "accountGroupIds"} == \
        {k: v for k, v in read.items() if k != "accountGroupIds"}
