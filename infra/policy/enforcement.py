"""Per-stack enforcement: infra/policy/config/<stack>.json, in the format of `pulumi preview --policy-pack-config`.

    {"all": "mandatory", "<rule>": "advisory", "<rule>": {"enforcementLevel": "mandatory", "<property>": ...}}

The offline check reads the same files, so a relaxation is written once for both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from infra.policy.rules import RULES_BY_NAME

CONFIG_DIR = Path(__file__).resolve().parent / "config"
Level = Literal["mandatory", "advisory", "disabled"]
LEVELS: tuple[Level, ...] = ("mandatory", "advisory", "disabled")
DEFAULT_LEVEL: Level = "mandatory"  # the pack's default too: a stack without a config file is held to prod's bar


class PolicyConfigError(ValueError):
    """A policy config file names an unknown rule, level or property."""


@dataclass(frozen=True)
class PolicyConfig:
    source: str
    default: Level = DEFAULT_LEVEL
    levels: Mapping[str, Level] = field(default_factory=dict)
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def level(self, rule: str) -> Level:
        return self.levels.get(rule, self.default)

    def settings(self, rule: str) -> Mapping[str, Any]:
        return self.properties.get(rule, {})


def config_path(stack: str) -> Path:
    return CONFIG_DIR / f"{stack}.json"


def parse_config(doc: Any, source: str) -> PolicyConfig:
    if not isinstance(doc, dict):
        raise PolicyConfigError(f"{source}: must be a JSON object of rule name -> level or settings")
    problems: list[str] = []
    default: Level = DEFAULT_LEVEL
    levels: dict[str, Level] = {}
    properties: dict[str, dict[str, Any]] = {}
    for key, value in doc.items():
        if key == "all":
            if value not in LEVELS:
                problems.append(f"{source}: all: {value!r} is not a level; allowed: {', '.join(LEVELS)}")
            else:
                default = cast(Level, value)
            continue
        rule = RULES_BY_NAME.get(key)
        if rule is None:
            problems.append(f"{source}: {key}: unknown rule; see `mlopsctl check --list`")
            continue
        if isinstance(value, str):
            value = {"enforcementLevel": value}
        if not isinstance(value, dict):
            problems.append(f"{source}: {key}: {value!r} must be a level or an object")
            continue
        level = value.get("enforcementLevel")
        if level is not None:
            if level not in LEVELS:
                problems.append(f"{source}: {key}.enforcementLevel: {level!r} is not a level; "
                                f"allowed: {', '.join(LEVELS)}")
            else:
                levels[key] = cast(Level, level)
        extra = {k: v for k, v in value.items() if k != "enforcementLevel"}
        unknown_keys = sorted(set(extra) - set(rule.config_schema))
        if unknown_keys:
            allowed = ", ".join(sorted(rule.config_schema)) or "none"
            problems.append(f"{source}: {key}: unknown setting(s) {', '.join(unknown_keys)}; allowed: {allowed}")
        if extra:
            properties[key] = extra
    if problems:
        raise PolicyConfigError("\n".join(problems))
    return PolicyConfig(source, default, levels, properties)


def load_config(stack: str | None = None, path: Path | None = None) -> PolicyConfig:
    """The enforcement config of `stack` (or of the file `path`); all-mandatory when the stack has none."""
    if path is None:
        if stack is None or not config_path(stack).exists():
            return PolicyConfig(source=f"default (no {config_path(stack or '<stack>').name})")
        path = config_path(stack)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_config(doc, str(path))
