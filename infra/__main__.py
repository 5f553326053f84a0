"""Pulumi entry point: read and validate the stack config, build the Platform, export its outputs.

Runs unchanged under the real engine (`pulumi preview/up`) and under the offline mock engine.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import get_monitor

from infra.config import ConfigError, from_pulumi_runtime, runtime_secret_keys, sibling_configs, validate_for_engine


class StackConfigError(pulumi.RunError):
    """Reported by the Pulumi CLI without a Python traceback."""


def main() -> None:
    stack = pulumi.get_stack()
    try:
        raw = from_pulumi_runtime()
        real_engine = not isinstance(get_monitor(), MockMonitor)  # the offline engine plans the shipped samples
        config = validate_for_engine(stack, raw, sibling_configs(stack), runtime_secret_keys(raw),
                                     real_engine=real_engine).as_deployed()
    except ConfigError as exc:
        # One line per problem, nothing declared.
        raise StackConfigError("invalid stack configuration:\n" + "\n".join(exc.problems)) from None

    from infra.composition import Platform  # imported after validation: bad config declares nothing

    platform = Platform(f"mlops-{stack}", config)
    for key, value in platform.outputs.items():
        pulumi.export(key, value)


main()
