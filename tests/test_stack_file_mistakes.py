"""Stack-file mistakes a deploy would regret: duplicate keys, secrets in plain text or not encrypted,
unquoted dates. Each is one clear line, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.config import PROJECT_DIR, ConfigError, read_stack_file, validate
from tests.support import config_problems, siblings, with_changes

WEBHOOK = "mlops-platform:alertWebhookUrl"
CIPHERTEXT = "v1:AAAAAAAAAAAAAAAA:c2VjcmV0LXVybC1jaXBoZXJ0ZXh0"


def _stack_dir(tmp_path: Path, stack: str, text: str) -> Path:
    for name in ("dev", "test", "prod"):
        shutil.copy(PROJECT_DIR / f"Pulumi.{name}.yaml", tmp_path / f"Pulumi.{name}.yaml")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


def test_a_duplicate_key_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace(
        "    vnetCidr: 10.1.0.0/16\n", "    vnetCidr: 10.1.0.0/16\n    vnetCidr: 10.9.0.0/16\n", 1)
    line = text.splitlines().index("    vnetCidr: 10.9.0.0/16") + 1
    with pytest.raises(ConfigError) as exc:
        read_stack_file("dev", _stack_dir(tmp_path, "dev", text))
    assert exc.value.problems == [
        f"dev: Pulumi.dev.yaml: line {line}: key 'vnetCidr' appears twice in the same mapping (YAML would keep the "
        "last one silently); keep one"]


def test_every_duplicate_is_reported(tmp_path: Path) -> None:
    text = "config:\n  a:b: 1\n  a:b: 2\n  mlops-platform:x:\n    k: 1\n    k: 2\n"
    with pytest.raises(ConfigError) as exc:
        read_stack_file("dev", _stack_dir(tmp_path, "dev", text))
    assert [p.split(": ")[2] for p in exc.value.problems] == ["line 3", "line 6"]


def test_an_unquoted_date_stays_a_string(tmp_path: Path) -> None:
    """YAML reads `2026-12-01` as a date; the program receives the string (and a date object crashed the
    offline engine with 'Object of type date is not JSON serializable')."""
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text() + "  mlops-platform:when: 2026-12-01\n"
    raw = read_stack_file("dev", _stack_dir(tmp_path, "dev", text))
    assert raw["mlops-platform:when"] == "2026-12-01"


def test_a_plaintext_secret_is_refused_without_showing_it() -> None:
    raw = with_changes("dev", [("serving.notifications.webhook", "slack")])
    raw[WEBHOOK] = "https://hooks.slack.com/services/T000/B000/XXXX"  # pragma: allowlist secret (fake)
    problems = config_problems("dev", raw)
    assert problems == [
        "dev: alertWebhookUrl: is in plain text in the stack file (value not shown); a secret must be encrypted: "
        "set it with: pulumi config set --secret alertWebhookUrl <value>"]
    assert "hooks.slack.com" not in " ".join(problems)


@pytest.mark.parametrize("secure", ["https://hooks.slack.com/x", "v1:abc", "v1:AAAAAAAAAAAAAAAA:", 42])
def test_a_secure_value_must_be_ciphertext(secure: object) -> None:
    raw = with_changes("dev", [("serving.notifications.webhook", "slack")])
    raw[WEBHOOK] = {"secure": secure}
    assert config_problems("dev", raw) == [
        "dev: alertWebhookUrl: the secure: value is not Pulumi ciphertext (v1:<nonce>:<data>); set it with: pulumi "
        "config set --secret alertWebhookUrl <value>"]


def test_ciphertext_from_the_stack_file_is_accepted_and_masked() -> None:
    raw = with_changes("dev", [("serving.notifications.webhook", "slack")])
    raw[WEBHOOK] = {"secure": CIPHERTEXT}
    config = validate("dev", raw, siblings("dev"))
    assert config.alert_webhook_url is not None and config.alert_webhook_url.get_secret_value() == "[secret]"


def test_a_secret_from_the_engine_is_checked_in_clear() -> None:
    """The real engine decrypts secrets and says which keys are secret: then the URL itself is checked."""
    raw = with_changes("dev", [("serving.notifications.webhook", "slack")])
    raw[WEBHOOK] = "http://hooks.slack.com/x"
    assert config_problems("dev", raw) != []
    with pytest.raises(ConfigError) as exc:
        validate("dev", raw, siblings("dev"), secret_keys={WEBHOOK})
    assert exc.value.problems == [
        "dev: alertWebhookUrl: '[secret]' is not an https:// URL (value not shown: it is a secret)"]
    raw[WEBHOOK] = "https://hooks.slack.com/x"
    assert validate("dev", raw, siblings("dev"), secret_keys={WEBHOOK}).alert_webhook_url is not None
