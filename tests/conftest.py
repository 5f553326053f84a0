import pytest

from tests.support import STACKS, Mlopsctl, Result, cached_plan_stack, plan_of


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(stack: str):
    return plan_of(stack)


@pytest.fixture
def mlopsctl(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Mlopsctl:
    """`mlopsctl ARGS` in this process, the checked-in stacks' plans from the cache: the command's own code
    runs, without a new interpreter's imports and a plan per call (seconds each). One subprocess test per
    entry point keeps the installed script honest."""
    from mlopsctl.commands.main import main
    from mlopsctl.plan import engine

    monkeypatch.setattr(engine, "plan_stack", cached_plan_stack)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run
