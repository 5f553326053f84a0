"""The one error family of the tools: `mlopsctl` prints a ToolError as one line and exits 2, no traceback.

A bad stack config is `infra.config.ConfigError` (the program raises it too); the CLI reports it the same way.
"""


class ToolError(Exception):
    """A user mistake the tools can name: a missing file, a bad argument, a file that is not what it should be."""


class UsageError(ToolError):
    """A bad argument or combination of arguments."""


class PlanFileError(ToolError):
    """A plan file that is missing or not a plan JSON."""
