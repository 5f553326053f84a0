import pytest

from tests.support import STACKS, plan_of


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(stack: str):
    return plan_of(stack)
