"""docs/configuration.md is generated from the config models and cannot drift from them."""

from __future__ import annotations

from typing import Any

from infra.config import PROJECT_DIR
from mlopsctl.reports.config_reference import block_in, markdown, rows
from tests.support import STACKS, stack_raw


def test_the_configuration_page_equals_the_generator() -> None:
    assert block_in(PROJECT_DIR / "docs" / "configuration.md") == markdown(), (
        "docs/configuration.md is stale: run .venv/bin/mlopsctl config-reference --write docs/configuration.md")


def _leaf_paths(value: Any, prefix: str) -> list[str]:
    if isinstance(value, dict) and value and set(value) != {"secure"}:
        return [p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [p for item in value for p in _leaf_paths(item, f"{prefix}[]")]
    return [prefix]


def _documented(path: str, types: dict[str, str]) -> bool:
    """Exactly documented, or below a free-form map (tags, spark conf), or a key of a map of mappings."""
    if path in types:
        return True
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        kind = types.get(head, "")
        if kind.startswith("map of") and kind != "map of mapping":
            return True
        if kind == "map of mapping" and parts[i] != "<name>":
            if i == len(parts) - 1:
                return True  # the map's value in its shorthand form (e.g. `dataScientists: READ_WRITE`)
            return _documented(".".join([head, "<name>", *parts[i + 1:]]), types)
    return False


def test_every_key_used_in_the_stack_files_is_documented() -> None:
    types = {path: typ for path, typ, *_ in rows()}
    for stack in STACKS:
        for key, value in stack_raw(stack).items():
            namespace, _, top = key.partition(":")
            if namespace != "mlops-platform":
                continue
            for path in _leaf_paths(value, top):
                assert _documented(path, types), f"{stack}: {path} is not in the configuration reference"


def test_every_key_has_a_description() -> None:
    empty = [path for path, _typ, _default, _allowed, doc in rows() if not doc.strip()]
    assert not empty, ("keys without a description (add a docstring line under the field in infra/config): "
                       + ", ".join(empty))


def test_allowed_values_are_words_not_regexes() -> None:
    raw = [f"{path}: {allowed}" for path, _typ, _default, allowed, _doc in rows()
           if "^" in allowed or "$`" in allowed or "\\d" in allowed or "\\w" in allowed or "pattern" in allowed
           or "[A-Za-z" in allowed or "[a-z" in allowed]
    assert not raw, ("allowed values shown as a regex (give the type a json_schema_extra 'allowed' phrase in "
                     "infra/config/types.py, or add the pattern to types.PATTERN_WORDS): " + "; ".join(raw))


def test_every_allowed_phrase_names_a_field() -> None:
    from infra.config import model as config_model
    from infra.config.types import FIELD_WORDS

    models = {cls.__name__: cls for cls in _models(config_model.StackConfig)}
    for key in FIELD_WORDS:
        model_name, _, field = key.partition(".")
        assert model_name in models and field in models[model_name].model_fields, (
            f"types.FIELD_WORDS has {key!r}, which is no field of the config models")


def _models(model: Any) -> list[Any]:
    from mlopsctl.reports.config_reference import _model_in

    found = [model]
    for field in model.model_fields.values():
        nested = _model_in(field.annotation)
        if nested is not None and nested not in found:
            found += [m for m in _models(nested) if m not in found]
    return found


def test_every_key_says_what_it_allows() -> None:
    """An empty 'allowed' column reads as 'not documented'; free text says so."""
    assert [path for path, _typ, _default, allowed, _doc in rows() if not allowed] == []
