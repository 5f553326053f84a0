"""Stack config: read once, validate everything, report every problem at once (one line each).

Two sources feed the same validator:
- the real engine: `pulumi.Config` values handed to the program (`from_pulumi_runtime`);
- files: `Pulumi.<stack>.yaml` read directly (offline plan, tests, cross-stack checks).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from collections.abc import Hashable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from infra.config import governance, posture, resilience, security, unity_catalog
from infra.config.base import ConfigError, format_validation_error
from infra.config.core import Environment, global_name_problems
from infra.config.model import StackConfig
from infra.config.samples import sample_value_problems

PROJECT = "mlops-platform"
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
# Where the stack files are. The offline engine sets it per run (tests and benchmarks plan generated
# projects); the real engine runs with the default, this repository.
PROJECT_DIR_VAR: ContextVar[Path] = ContextVar("mlops_project_dir", default=PROJECT_DIR)
# Config namespaces a stack file may use besides ours (provider settings); anything else is a typo.
FOREIGN_NAMESPACES = ("azure-native", "databricks", "pulumi")

__all__ = [
    "PROJECT",
    "PROJECT_DIR",
    "PROJECT_DIR_VAR",
    "STANDBY_DIR",
    "ConfigError",
    "StackConfig",
    "from_pulumi_runtime",
    "load_stack",
    "read_stack_file",
    "standby_stacks",
    "validate",
]


# Standby stacks (a primary's disaster-recovery twin) keep their stack file here, not beside Pulumi.yaml: they are
# deployed with `pulumi up --stack S --config-file infra/standby/Pulumi.S.yaml`, outside the dev -> test -> prod
# promotion that every top-level stack file joins (docs/recovery.md).
STANDBY_DIR = Path("infra") / "standby"


def stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    """Pulumi.<stack>.yaml beside Pulumi.yaml; a standby stack's file under infra/standby."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    standby = project_dir / STANDBY_DIR / path.name
    return standby if not path.is_file() and standby.is_file() else path


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<stack>.yaml, keys as written ('mlops-platform:network')."""
    path = stack_file(stack, project_dir)
    if not path.is_file():
        raise ConfigError([f"{stack}: {path.name}: stack file not found in {path.parent} "
                           f"(create it, or pick a stack from: "
                           f"{', '.join(sorted({*known_stacks(project_dir), *standby_stacks(project_dir)}))})"])
    text = path.read_text()
    loader = _StackFileLoader(text)
    try:
        doc = loader.get_single_data() or {}
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses anywhere (a control character): its own message spans two lines and counts
        # bytes with libyaml, characters without it; say where it is, as for the other YAML errors.
        raise ConfigError([f"{stack}: {path.name}: {_where(text, exc.character)}: not valid YAML (unacceptable "
                           f"character #x{exc.character:04x}: control and other non-printable characters are not "
                           "allowed)"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise ConfigError([f"{stack}: {path.name}: {where}: not valid YAML ({exc.problem})"]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError([f"{stack}: {path.name}: line {line}: key {key!r} appears twice in the same mapping "
                           "(YAML would keep the last one silently); keep one" for line, key in loader.duplicates])
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise ConfigError([f"{stack}: {path.name}: must be a mapping with a 'config:' mapping"])
    config = doc.get("config") or {}
    return {str(k): v for k, v in config.items()}


def _where(text: str, character: int) -> str:
    """'line L, column C' of the first `character` in `text` (the one the YAML reader stops at)."""
    index = text.find(chr(character))
    line_start = text.rfind("\n", 0, index)  # -1 on the first line
    return f"line {text.count(chr(10), 0, index) + 1}, column {index - line_start}"


# libyaml's C parser when present: three stack files are read on every run (siblings too).
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Implicit tags Pulumi (YAML 1.2) does not have: an unquoted date stays a string, and so does a bare `=` (YAML
# 1.1's value key, which PyYAML's safe loader then cannot construct).
_NOT_PULUMI_TAGS = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")


class _StackFileLoader(_BaseLoader):
    """YAML as Pulumi reads a stack file: duplicate keys are mistakes, and an unquoted date such as
    `startDate: 2026-12-01` stays the string the program receives, not a date object."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _NOT_PULUMI_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node)
            if not isinstance(key, Hashable):
                continue  # a list or mapping as a key: the base class refuses it with its position
            if key in seen:
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def known_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks of this project: one per Pulumi.<stack>.yaml. Adding a file adds an environment."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def standby_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The standby stacks: one per infra/standby/Pulumi.<stack>.yaml (not in the promotion order)."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in (project_dir / STANDBY_DIR).glob("Pulumi.*.yaml"))


TIERS: tuple[str, ...] = get_args(Environment)  # the values of `environment`, in promotion order


def stack_order(project_dir: Path = PROJECT_DIR) -> list[str]:
    """Known stacks in promotion order: by their `environment` tier (dev, test, prod), then by name; a stack
    file that cannot be read sorts last (the tools report it when they read it)."""
    def tier(stack: str) -> int:
        try:
            value = read_stack_file(stack, project_dir).get(f"{PROJECT}:environment")
        except ConfigError:
            return len(TIERS)
        return TIERS.index(value) if value in TIERS else len(TIERS)

    return sorted(known_stacks(project_dir), key=lambda stack: (tier(stack), stack))


def _split_namespaces(stack: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    ours: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        namespace, sep, name = key.partition(":")
        if not sep:
            problems.append(f"{stack}: {key}: config key without a namespace; use '{PROJECT}:{key}'")
        elif namespace == PROJECT:
            ours[name] = value
        elif namespace not in FOREIGN_NAMESPACES:
            problems.append(f"{stack}: {key}: unknown config namespace {namespace!r}; "
                            f"allowed: {PROJECT}, {', '.join(FOREIGN_NAMESPACES)}")
    return ours, problems


# What stands in for a secret value offline (the offline engine hands the program this, never the value).
SECRET_MASK = "[secret]"
# A `secure:` value as Pulumi writes it: v1:<base64 nonce>:<base64 ciphertext> (pulumi/pulumi
# sdk/go/common/resource/config/crypt.go, symmetricCrypter; the cloud secrets managers use it too).
_CIPHERTEXT = re.compile(r"^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{4,}={0,2}$")


def secret_fields() -> list[str]:
    """Top-level keys that hold a secret (typed SecretStr in the model): they must be `secure:` values."""
    return sorted(f.alias or name for name, f in StackConfig.model_fields.items()
                  if "SecretStr" in str(f.annotation))


def _secret_problems(stack: str, ours: dict[str, Any], secret_keys: set[str] | None) -> list[str]:
    """Secrets given in plain text, or `secure:` values that are not ciphertext. Masks the values in `ours`."""
    problems = []
    for key in [k for k in secret_fields() if k in ours]:
        value = ours[key]
        how = f"set it with: pulumi config set --secret {key} <value>"
        if isinstance(value, dict) and set(value) == {"secure"}:  # read from a stack file
            if not (isinstance(value["secure"], str) and _CIPHERTEXT.match(value["secure"])):
                problems.append(f"{stack}: {key}: the secure: value is not Pulumi ciphertext (v1:<nonce>:<data>); "
                                f"{how}")
            ours[key] = SECRET_MASK
        elif value != SECRET_MASK and f"{PROJECT}:{key}" not in (secret_keys or set()):
            problems.append(f"{stack}: {key}: is in plain text in the stack file (value not shown); a secret must be "
                            f"encrypted: {how}")
            ours[key] = SECRET_MASK
    return problems


def validate(stack: str, raw: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]] | None = None,
             secret_keys: set[str] | None = None) -> StackConfig:
    """Validate one stack's raw config (plus cross-stack rules against its siblings). Raises ConfigError.

    `secret_keys`: the namespaced keys the engine marks secret (the real engine decrypts them); values read
    from a stack file show theirs as `{secure: ...}`.
    """
    ours, problems = _split_namespaces(stack, raw)
    problems[:0] = environment_name_problems(stack, ours)
    problems.extend(_secret_problems(stack, ours, secret_keys))
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(ours, context={"stack": stack})
    except ValidationError as exc:
        problems.extend(format_validation_error(stack, exc))
    if config is not None and siblings:
        problems.extend(cross_stack_problems(stack, config, siblings))
    if problems:
        raise ConfigError(problems)
    assert config is not None
    return config


def validate_for_engine(stack: str, raw: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]] | None,
                        secret_keys: set[str] | None, *, real_engine: bool) -> StackConfig:
    """validate(), and under the real engine the sample values the stack files ship with are problems too,
    reported with the others. The offline engine plans the samples as they are."""
    samples = sample_value_problems(stack, _split_namespaces(stack, raw)[0]) if real_engine else []
    try:
        config = validate(stack, raw, siblings, secret_keys)
    except ConfigError as exc:
        raise ConfigError([*exc.problems, *samples]) from None
    if samples:
        raise ConfigError(samples)
    return config


def environment_name_problems(stack: str, ours: Mapping[str, Any]) -> list[str]:
    """A stack named after a tier (dev, test, prod) has that tier: `environment: dev` pasted into
    Pulumi.test.yaml would otherwise show up only as name collisions with dev. Other names (staging) may
    have any tier; names come from the stack name, relaxations from the tier."""
    value = ours.get("environment")
    if stack in TIERS and value in TIERS and value != stack:
        return [f"{stack}: environment: {value!r} differs from the stack name {stack!r}; a stack named after a "
                f"tier has that tier (allowed: {stack!r})"]
    return []


def _quiet_parse(stack: str, raw: Mapping[str, Any]) -> StackConfig | None:
    try:
        ours, problems = _split_namespaces(stack, raw)
        return None if problems else StackConfig.model_validate(ours, context={"stack": stack})
    except ValidationError:
        return None  # that stack's own plan reports its problems


def cross_stack_problems(stack: str, config: StackConfig, siblings: Mapping[str, Mapping[str, Any]],
                         ) -> list[str]:
    """Rules across the three stacks, e.g. VNets must not overlap (they may be peered or share DNS)."""
    problems: list[str] = []
    mine = ipaddress.ip_network(config.network.vnet_cidr)
    for other_name, other_raw in sorted(siblings.items()):
        if other_name == stack:
            continue
        other = _quiet_parse(other_name, other_raw)
        if other is None:
            continue
        theirs = ipaddress.ip_network(other.network.vnet_cidr)
        if mine.overlaps(theirs):
            problems.append(f"{stack}: network.vnetCidr: {config.network.vnet_cidr!r} overlaps stack "
                            f"{other_name}'s vnetCidr {other.network.vnet_cidr!r}; VNets must not overlap")
        if other.names.resource_group == config.names.resource_group:
            problems.append(f"{stack}: naming.resourceGroup: {config.names.resource_group!r} is also "
                            f"stack {other_name}'s resource group; each environment needs its own")
        problems.extend(global_name_problems(stack, config.names, other_name, other.names))
        problems.extend(_cross_area_problems(stack, config, other_name, other))
    return problems


def _cross_area_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """Cross-stack rules contributed by later areas (metastore owner, shared catalogs, ...)."""
    return [p for check in CROSS_STACK_CHECKS for p in check(stack, config, other_name, other)]


# Each: (stack, config, other stack name, other config) -> problem lines. Areas append to this list.
CROSS_STACK_CHECKS: list[Any] = []
CROSS_STACK_CHECKS.append(security.browser_auth_problems)  # one browser_authentication per region
CROSS_STACK_CHECKS.append(security.hub_link_problems)  # one workspace DNS zone linked per hub VNet
CROSS_STACK_CHECKS.append(unity_catalog.cross_stack_problems)  # one owner per metastore/catalog
CROSS_STACK_CHECKS.append(resilience.standby_problems)  # a standby in its primary's paired region
CROSS_STACK_CHECKS.append(posture.account_settings_problems)  # one stack declares the account-wide settings
CROSS_STACK_CHECKS.append(governance.cross_stack_problems)  # governed tags declared once per account


def sibling_configs(stack: str, project_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The other stacks' raw configs from their files (unreadable ones are skipped)."""
    project_dir = project_dir or PROJECT_DIR_VAR.get()
    out: dict[str, dict[str, Any]] = {}
    for name in known_stacks(project_dir):
        if name == stack:
            continue
        try:
            out[name] = read_stack_file(name, project_dir)
        except ConfigError:
            continue
    return out


def load_stack(stack: str, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """Read and validate Pulumi.<stack>.yaml with the cross-stack rules."""
    return validate(stack, read_stack_file(stack, project_dir), sibling_configs(stack, project_dir))


def runtime_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """The keys of `raw` that the engine handed over as secrets."""
    from pulumi.runtime.config import is_config_secret

    return {key for key in raw if is_config_secret(key)}


def from_pulumi_runtime() -> dict[str, Any]:
    """The stack's config as the engine handed it to the program, structured values decoded."""
    from pulumi.runtime.config import CONFIG, get_config_env

    merged: dict[str, Any] = {**get_config_env(), **CONFIG.get()}
    out: dict[str, Any] = {}
    for key, value in merged.items():
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        out[key] = value
    return out
