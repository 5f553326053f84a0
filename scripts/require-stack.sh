#!/usr/bin/env bash
# Fails early, with what to do, when STACK cannot be previewed or deployed from this commit:
#   - the stack does not exist in the backend. pulumi/actions selects the stack (LocalWorkspace.selectStack)
#     unless `upsert` is set, and upsert would create it with the default passphrase secrets provider; so
#     the stack is created once, by a person, with its Key Vault key (docs/delivery.md, "Create the stacks").
#   - on a self-managed backend (azblob://, file://), Pulumi.<stack>.yaml lacks the `secretsprovider:` and
#     `encryptedkey:` lines that `pulumi stack init --secrets-provider azurekeyvault://...` writes
#     (pulumi/pulumi pkg/secrets/cloud/manager.go, EditProjectStack): without them the CLI falls back to a
#     passphrase it does not have.
#   - on the azblob:// backend, AZURE_STORAGE_ACCOUNT (from PULUMI_STATE_ACCOUNT) is unset, empty or an
#     unexpanded Azure Pipelines macro (`$(PULUMI_STATE_ACCOUNT)` stays literal when the variable is not
#     defined): the backend would otherwise fail later with a misleading storage error.
# Needs the Pulumi CLI and PULUMI_BACKEND_URL (the CLI reads it before any stored login).
# Usage: scripts/require-stack.sh STACK
set -uo pipefail
stack="${1:?usage: require-stack.sh STACK}"
project="$(sed -n 's/^name: *//p' Pulumi.yaml | head -n1)"
file="Pulumi.${stack}.yaml"
backend="${PULUMI_BACKEND_URL:-}"

fail() {
  local title="Stack ${stack} is not ready" message="$1"
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.logissue type=error]${title}: ${message}"
  else echo "::error title=${title}::${message}"; fi
  exit 1
}

[ -n "$backend" ] || fail "PULUMI_BACKEND_URL is not set (repository variable PULUMI_BACKEND_URL, e.g. azblob://pulumi-state)"
[ -f "$file" ] || fail "${file} does not exist in this commit"
case "$backend" in
  azblob://*)
    # Storage account names: 3 to 24 lowercase letters and digits.
    [[ "${AZURE_STORAGE_ACCOUNT:-}" =~ ^[a-z0-9]{3,24}$ ]] \
      || fail "AZURE_STORAGE_ACCOUNT is '${AZURE_STORAGE_ACCOUNT:-}', not a storage account name: set PULUMI_STATE_ACCOUNT (GitHub: repository variable; Azure DevOps: variable group mlops-state) to the account printed by scripts/bootstrap-state.sh (docs/delivery.md)"
    ;;
esac
case "$backend" in
  azblob://*|file://*|s3://*|gs://*)
    if ! grep -Eq '^secretsprovider: *azurekeyvault://' "$file" || ! grep -Eq '^encryptedkey: *[^ ]' "$file"; then
      fail "${file} has no 'secretsprovider: azurekeyvault://...' and 'encryptedkey:' lines. Create the stack once with its Key Vault key: pulumi stack init organization/${project}/${stack} --secrets-provider azurekeyvault://<vault>.vault.azure.net/keys/pulumi-${stack} (docs/delivery.md), then commit ${file}."
    fi
    ;;
esac

if ! listing="$(pulumi stack ls --json --non-interactive 2>&1)"; then
  fail "cannot list the stacks in ${backend}: $(printf '%s' "$listing" | tail -n1)"
fi
if ! printf '%s' "$listing" | python3 -c '
import json, sys
stack, project = sys.argv[1], sys.argv[2]
names = {s.get("name") for s in json.load(sys.stdin)}
sys.exit(0 if names & {stack, f"organization/{project}/{stack}", f"{project}/{stack}"} else 1)
' "$stack" "$project"; then
  fail "stack ${stack} does not exist in ${backend}. Create it once, as the state admin, with its own Key Vault key: pulumi stack init organization/${project}/${stack} --secrets-provider azurekeyvault://<vault>.vault.azure.net/keys/pulumi-${stack} (docs/delivery.md, \"Create the stacks\"); CI never creates stacks."
fi
echo "stack ${stack} exists in ${backend} and ${file} names its Key Vault secrets provider"
