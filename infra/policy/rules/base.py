"""The rule model shared by the CrossGuard pack and the offline check.

A rule is a plain function over a neutral view of a resource (resource rules) or over every resource of
the stack (stack rules); it returns findings. Adapters build the views: `infra.policy.pack` from
CrossGuard's arguments, `infra.policy.offline` from a plan JSON. No rule knows which one called it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
Kind = Literal["resource", "stack"]


class _Unknown:
    """A value the engine does not know yet (preview: an output of a resource not created yet)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()

# pulumi_policy's unknown sentinels (pulumi_policy/proxy.py) and the SDK's, as they may appear in raw data.
UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
})


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN or (isinstance(value, str) and value in UNKNOWN_SENTINELS)


def get(props: Any, path: str) -> Any:
    """get(props, 'parameters.enableNoPublicIp.value'): the value, None when missing, UNKNOWN when unknown."""
    value = props
    for part in path.split("."):
        if is_unknown(value):
            return UNKNOWN
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return UNKNOWN if is_unknown(value) else value


def items(value: Any) -> list[Any]:
    """A list input as a list ([] when missing; [UNKNOWN] when the whole list is unknown)."""
    if is_unknown(value):
        return [UNKNOWN]
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return []


def eq(value: Any, expected: str) -> bool:
    """Case-insensitive string equality, as Azure Policy compares."""
    return isinstance(value, str) and value.lower() == expected.lower()


def shown(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class ResourceView:
    """What a rule sees of a resource: inputs as camelCase `props`, options and links."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False
    provider: str | None = None  # the provider's URN (no id)
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    id: str | None = None  # known in plan JSONs; not in CrossGuard's view during preview
    retain_on_delete: bool | None = False  # None: the adapter cannot see it (CrossGuard's options lack it)

    @property
    def stack(self) -> str:
        """urn:pulumi:<stack>::<project>::... -> <stack>."""
        head = self.urn.partition("::")[0]
        return head.rpartition(":")[2] if head.startswith("urn:pulumi:") else ""

    def get(self, path: str) -> Any:
        return get(self.props, path)


@dataclass(frozen=True)
class Finding:
    """A violation message; `unknown` means the value that decides it is unknown at preview (advisory)."""

    message: str
    urn: str | None = None
    unknown: bool = False


def unknown(path: str, urn: str | None = None) -> Finding:
    return Finding(f"{path} is unknown at preview; the rule is checked again when the value is known",
                   urn=urn, unknown=True)


ResourceCheck = Callable[[ResourceView, Mapping[str, Any]], Iterable[Finding | str]]
StackCheck = Callable[[Sequence[ResourceView], Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    severity: Severity
    kind: Kind
    check: Callable[..., Iterable[Finding | str]]
    types: tuple[str, ...] = ()  # resource rules: the type tokens it applies to (empty: a predicate decides)
    applies: Callable[[str], bool] | None = None
    source: str = ""
    # Policy config properties (JSON schema per property) and their defaults; admins come from config.
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, typ: str) -> bool:
        if self.applies is not None:
            return self.applies(typ)
        return typ in self.types

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        return {**self.defaults, **{k: v for k, v in (config or {}).items() if k != "enforcementLevel"}}

    def run_resource(self, view: ResourceView, config: Mapping[str, Any] | None = None) -> list[Finding]:
        if self.kind != "resource" or not self.applies_to(view.type):
            return []
        out = []
        for f in self.check(view, self.settings(config)):
            finding = Finding(f) if isinstance(f, str) else f
            out.append(Finding(finding.message, finding.urn or view.urn, finding.unknown))
        return out

    def run_stack(self, views: Sequence[ResourceView], config: Mapping[str, Any] | None = None) -> list[Finding]:
        if self.kind != "stack":
            return []
        return [Finding(f) if isinstance(f, str) else f for f in self.check(views, self.settings(config))]


# Rule settings key the adapters add: is this the plan of a first `pulumi up` from nothing?
FIRST_DEPLOY = "firstDeploy"


def with_deploy_phase(settings: Mapping[str, Any] | None, first_deploy: bool) -> dict[str, Any]:
    """A rule's settings plus the deploy phase (from the plan JSON offline, the stack file in CrossGuard)."""
    return {**(settings or {}), FIRST_DEPLOY: first_deploy}


REGISTRY: dict[str, Rule] = {}
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _register(rule: Rule) -> Rule:
    if not _NAME.match(rule.name):
        raise ValueError(f"rule name {rule.name!r} is not kebab-case")
    if rule.name in REGISTRY:
        raise ValueError(f"rule {rule.name!r} defined twice")
    REGISTRY[rule.name] = rule
    return rule


def resource_rule(name: str, severity: Severity, description: str, types: Sequence[str] = (),
                  applies: Callable[[str], bool] | None = None, source: str = "",
                  config_schema: Mapping[str, Mapping[str, Any]] | None = None,
                  defaults: Mapping[str, Any] | None = None) -> Callable[[ResourceCheck], ResourceCheck]:
    def wrap(fn: ResourceCheck) -> ResourceCheck:
        _register(Rule(name, description, severity, "resource", fn, tuple(types), applies, source,
                       config_schema or {}, defaults or {}))
        return fn
    return wrap


def stack_rule(name: str, severity: Severity, description: str, source: str = "",
               config_schema: Mapping[str, Mapping[str, Any]] | None = None,
               defaults: Mapping[str, Any] | None = None) -> Callable[[StackCheck], StackCheck]:
    def wrap(fn: StackCheck) -> StackCheck:
        _register(Rule(name, description, severity, "stack", fn, (), None, source, config_schema or {},
                       defaults or {}))
        return fn
    return wrap
