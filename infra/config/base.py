"""Shared pieces of the config models: strict camelCase models and the one-line error format."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel


class StrictModel(BaseModel):
    """Every config model: camelCase keys as in the stack files, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        strict=False,
        # A string literal under a field is its description in the configuration reference.
        use_attribute_docstrings=True,
    )


class ConfigError(Exception):
    """All problems of a stack's config, one line each. Raised before any resource is declared."""

    def __init__(self, problems: list[str]) -> None:
        # One line each, whatever a key or value read from the file holds (a quoted "a\nb" key, say).
        self.problems = [_one_line(p) for p in problems]
        self.declared = 0  # resources registered before the error (must stay 0)
        super().__init__("\n".join(problems))


def _one_line(text: str) -> str:
    """Non-printable characters (line breaks included) as their escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


_MARK = "\x1e"


def repeated(values: list[Any]) -> list[Any]:
    """The values listed more than once, sorted, each once (what a uniqueness message names)."""
    return sorted({v for v in values if values.count(v) > 1})


def field_problems(items: list[tuple[str, Any, str]]) -> ValueError:
    """For cross-field rules: a ValueError that the formatter turns into one line per (sub-key, value, msg).

    Raise it from a model validator: `raise field_problems([("hostSubnetCidr", v, "overlaps ...")])`.
    """
    return ValueError("".join(f"{_MARK}{key}\x1f{show(value)}\x1f{msg}" for key, value, msg in items))


def key_path(loc: tuple[int | str, ...]) -> str:
    """('network', 'subnets', 0, 'cidr') -> 'network.subnets[0].cidr'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _join_key(path: str, sub: str) -> str:
    """'compute.runtimeVersions' + '[1]' -> 'compute.runtimeVersions[1]'; + 'x' -> '...runtimeVersions.x'."""
    if not path:
        return sub
    return path + sub if sub.startswith("[") else f"{path}.{sub}"


# Problem lines stay under this many characters (a terminal, a CI log). A long list of allowed values
# (regions) is cut short; the configuration reference lists them all.
MAX_LINE = 200


def _short_allowed(expected: str, room: int) -> str:
    """pydantic's "'a', 'b' or 'c'" shortened to its first values when it does not fit in `room`."""
    if len(expected) < room:
        return expected
    values = expected.replace(" or ", ", ").split(", ")
    head = ", ".join(values[:3])
    return f"{head}, ... ({len(values)} values; see docs/configuration.md)"


def show(value: Any) -> str:
    """A value as the user wrote it (YAML-ish), for error lines."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in list(value.items())[:4]) + "}"
    return repr(value)


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _lead_lower(msg: str) -> str:
    """pydantic's sentence in the middle of a line: only its first letter lowered (a pattern in it stays exact)."""
    return msg[:1].lower() + msg[1:]


def format_validation_error(stack: str, exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[str]:
    """pydantic errors -> `stack: key.path: value problem (allowed ...)` lines."""
    lines: list[str] = []
    for err in exc.errors():  # (each error's documentation url is not shown)
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # union/tagged members add their class name to the location; drop model names (they start uppercase)
        loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
        path = key_path(loc)
        kind = err["type"]
        value = err.get("input")
        ctx = err.get("ctx") or {}
        if kind == "extra_forbidden":
            msg = "unknown key (a typo?); see the configuration reference in docs/configuration.md"
            lines.append(f"{stack}: {path}: {msg}")
            continue
        if kind == "missing":
            lines.append(f"{stack}: {path}: required key is missing")
            continue
        if kind in ("value_error", "assertion_error"):
            detail = str(ctx.get("error", err["msg"]))
            if _MARK in detail:
                for item in detail.split(_MARK)[1:]:
                    sub, shown, msg = item.split("\x1f")
                    lines.append(f"{stack}: {_join_key(path, sub)}: {shown} {msg}")
                continue
            lines.append(f"{stack}: {path}: {show(value)} {detail}" if path else f"{stack}: {detail}")
            continue
        if kind in ("literal_error", "enum"):
            head = f"{stack}: {path}: {show(value)} is not allowed; allowed: "
            lines.append(head + _short_allowed(ctx.get("expected", ""), MAX_LINE - len(head)))
            continue
        if kind in _TYPE_WORDS:
            lines.append(f"{stack}: {path}: {show(value)} is not {_TYPE_WORDS[kind]}")
            continue
        if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            lines.append(f"{stack}: {path}: {show(value)} is out of range ({_lead_lower(err['msg'])})")
            continue
        if kind in ("string_pattern_mismatch", "string_too_long", "string_too_short"):
            lines.append(f"{stack}: {path}: {show(value)} is not allowed ({_lead_lower(err['msg'])})")
            continue
        lines.append(f"{stack}: {path}: {show(value)} is not allowed ({err['msg']})")
    return lines
