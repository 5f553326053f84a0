"""Config of the security posture: the Security Analysis Tool's deploy-time checks as settings.

Every relaxable check (infra/sat.py) is met by default. A dev/test stack turns one off by naming its SAT id in
`securityPosture.relaxed` with the reason; prod refuses any. The values some settings need (token lifetime, Git
URL prefixes, artifact allowlists, the egress allowlist) live here too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems, repeated
from infra.sat import BY_ID, GIT_ALLOWLIST_KEYS, RELAXABLE, TOKEN_LIFETIME_KEY, WORKSPACE_CONF_FLAGS, conf_value

if TYPE_CHECKING:
    from infra.config.model import StackConfig

# A DNS name as the network policy (DNS_NAME destinations) and an Azure Firewall application rule take it.
_FQDN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_MAVEN = re.compile(r"^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+){1,2}$")  # group[:artifact[:version]] prefix
MIN_REASON = 15

# Destinations every stack's serverless and classic compute reach: the Python package index the job
# environments and serving containers install from.
DEFAULT_EGRESS = ["pypi.org", "files.pythonhosted.org"]


class ArtifactAllowlistConfig(StrictModel):
    """Libraries and init scripts standard-access-mode compute may use (metastore-wide)."""

    maven: list[str] = []
    """Maven coordinate prefixes (`group`, `group:artifact` or `group:artifact:version`) clusters may install."""
    jars: list[str] = []
    """Volume path prefixes (`/Volumes/<catalog>/<schema>/<volume>/...`) JARs may be installed from."""

    @field_validator("maven")
    @classmethod
    def _maven(cls, v: list[str]) -> list[str]:
        for entry in v:
            if not _MAVEN.match(entry):
                raise ValueError(f"entry {entry!r} is not a Maven coordinate prefix; allowed: 'group:artifact' or "
                                 "'group:artifact:version' (letters, digits, dots, hyphens, underscores)")
        return v

    @field_validator("jars")
    @classmethod
    def _jars(cls, v: list[str]) -> list[str]:
        for entry in v:
            if not entry.startswith("/Volumes/") or entry.count("/") < 4:
                raise ValueError(f"entry {entry!r} is not a volume path prefix; allowed: "
                                 "'/Volumes/<catalog>/<schema>/<volume>/...'")
        return v

    @property
    def any(self) -> bool:
        return bool(self.maven or self.jars)


class SecurityPostureConfig(StrictModel):
    """The Security Analysis Tool's deploy-time checks: which this stack relaxes, and the values settings need."""

    relaxed: dict[str, str] = {}
    """SAT check id -> why this stack does not meet it (dev/test only; prod refuses any). Relaxable: see
    docs/security-posture.md."""
    max_token_lifetime_days: int = Field(default=90, ge=1, le=730)
    """Longest lifetime in days of a new personal access token (SAT IA-5)."""
    git_url_allowlist: list[str] = []
    """URL prefixes Git folders may clone from and push to (SAT INFO-42), e.g. `https://github.com/your-org/`;
    required unless INFO-42 is relaxed."""
    artifact_allowlist: ArtifactAllowlistConfig = ArtifactAllowlistConfig()
    """Maven coordinates and JAR paths compute may install (SAT INFO-38); metastore-wide, so only in the protected
    stack."""
    account_settings: bool = False
    """Declare the account-wide settings (disable legacy features for new workspaces, SAT GOV-37); one protected
    stack per account."""
    egress_allowlist: list[str] = Field(default_factory=lambda: list(DEFAULT_EGRESS))
    """DNS names serverless compute (the network policy) and classic compute (the hub firewall) may reach besides
    Azure and Databricks services."""
    serverless_egress: Literal["enforced", "dryRun"] = "enforced"
    """The serverless network policy's mode once rolled out; a first deploy always runs it `dryRun` (logs denials
    without blocking). `dryRun` here relaxes SAT NS-9."""

    @model_validator(mode="after")
    def _relaxed(self) -> SecurityPostureConfig:
        problems: list[tuple[str, Any, str]] = []
        for check, reason in self.relaxed.items():
            if check not in RELAXABLE:
                known = "is not a SAT check id" if check not in BY_ID else "is not relaxable here"
                problems.append((f"relaxed.{check}", reason,
                                 f"names {check!r}, which {known}; allowed: {', '.join(RELAXABLE)}"))
            elif len(reason.strip()) < MIN_REASON:
                problems.append((f"relaxed.{check}", reason,
                                 f"is not a reason; say why in at least {MIN_REASON} characters"))
        if problems:
            raise field_problems(problems)
        return self

    @field_validator("git_url_allowlist")
    @classmethod
    def _git(cls, v: list[str]) -> list[str]:
        for url in v:
            if not re.match(r"^https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$", url):
                raise ValueError(f"entry {url!r} is not an https URL prefix (e.g. 'https://github.com/your-org/')")
        return v

    @field_validator("egress_allowlist")
    @classmethod
    def _egress(cls, v: list[str]) -> list[str]:
        for name in v:
            if not _FQDN.match(name):
                raise ValueError(f"entry {name!r} is not a DNS name; allowed: lowercase names like 'pypi.org' "
                                 "(no scheme, path, port or wildcard)")
        dupes = repeated(v)
        if dupes:
            raise ValueError(f"lists {', '.join(map(repr, dupes))} more than once")
        return v

    def workspace_conf(self) -> dict[str, str]:
        """The workspace-conf keys SAT reads, each at its secure value unless its check is relaxed here."""
        out = {key: conf_value(secure if self.meets(check) else not secure)
               for check, key, secure in WORKSPACE_CONF_FLAGS}
        if self.meets("IA-5"):
            out[TOKEN_LIFETIME_KEY] = str(self.max_token_lifetime_days)
        if self.meets("INFO-42"):
            # SAT's own description of the key: "Comma-separated list of allowed Git URL prefixes"
            # (src/securityanalysistoolproject/clientpkgs/ws_settings_client.py).
            enable, prefixes = GIT_ALLOWLIST_KEYS
            out[enable] = "true"
            out[prefixes] = ",".join(self.git_url_allowlist)
        return out

    def meets(self, check: str) -> bool:
        """Is the relaxable check `check` met here (not relaxed)?"""
        if check == "NS-9" and self.serverless_egress == "dryRun":
            return False
        return check not in self.relaxed


def stack_problems(config: StackConfig) -> list[tuple[str, Any, str]]:
    """Rules across the posture and the other sections; prod accepts no relaxation."""
    posture = config.security_posture
    problems: list[tuple[str, Any, str]] = []
    if config.is_prod:
        for check in posture.relaxed:
            problems.append((f"securityPosture.relaxed.{check}", posture.relaxed[check],
                             "is not allowed in prod: prod meets every deploy-time SAT check it can "
                             "(docs/security-posture.md)"))
        if posture.serverless_egress != "enforced":
            problems.append(("securityPosture.serverlessEgress", posture.serverless_egress,
                             "is not allowed in prod: allowed: 'enforced' (a first deploy runs dry-run by itself)"))
    elif posture.serverless_egress == "dryRun" and "NS-9" not in posture.relaxed:
        problems.append(("securityPosture.serverlessEgress", "dryRun",
                         "relaxes SAT NS-9; give the reason in securityPosture.relaxed.NS-9"))
    if not posture.git_url_allowlist and "INFO-42" not in posture.relaxed:
        problems.append(("securityPosture.gitUrlAllowlist", [],
                         "must list the URL prefixes Git folders may use (e.g. 'https://github.com/your-org/'), "
                         "or relax SAT INFO-42 with a reason in securityPosture.relaxed"))
    if not config.protection.protect:
        if posture.artifact_allowlist.any:
            problems.append(("securityPosture.artifactAllowlist", "set",
                             "is metastore-wide: declare it only in the long-lived, protected stack "
                             "(protection.protect true)"))
        if posture.account_settings:
            problems.append(("securityPosture.accountSettings", True,
                             "is account-wide: declare it only in the long-lived, protected stack "
                             "(protection.protect true)"))
    if config.workspace_security.enhanced_security_compliance:
        for check, what in (("GOV-36", "automatic cluster update"), ("INFO-40", "enhanced security monitoring")):
            if check in posture.relaxed:
                problems.append((f"securityPosture.relaxed.{check}", posture.relaxed[check],
                                 f"cannot be relaxed while workspaceSecurity.enhancedSecurityCompliance is true: the "
                                 f"compliance security profile needs {what} on"))
    return problems


def account_settings_problems(stack: str, config: StackConfig, other_name: str, other: StackConfig) -> list[str]:
    """CROSS_STACK_CHECKS rule: account-wide settings are declared by one stack only."""
    if config.security_posture.account_settings and other.security_posture.account_settings \
            and config.databricks.account_id == other.databricks.account_id:
        return [f"{stack}: securityPosture.accountSettings: true is also set by stack {other_name} for account "
                f"{config.databricks.account_id}; exactly one stack declares the account-wide settings"]
    return []
