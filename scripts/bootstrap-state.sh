#!/usr/bin/env bash
# Bootstrap a team state backend for this project: an Azure Blob container for Pulumi state and an Azure
# Key Vault key as the secrets provider. --dry-run
# prints the commands instead of running them. Needs the Azure CLI, logged in (`az login`) with rights to
# create resources and role assignments in the subscription.
#
# Usage:
#   scripts/bootstrap-state.sh --subscription SUB [--location eastus2] [--prefix mlopsstate]
#                              [--principal OBJECT_ID]... [--dry-run]
# --principal: object ids that deploy (the CI identities of dev/test/prod, your own user); each gets
#   Storage Blob Data Contributor on the state account and Key Vault Crypto User on the vault.
set -euo pipefail

location="eastus2"
prefix="mlopsstate"
subscription=""
dry_run=0
principals=()

while [ $# -gt 0 ]; do
  case "$1" in
    --subscription) subscription="$2"; shift 2 ;;
    --location) location="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --principal) principals+=("$2"); shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bootstrap-state: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$subscription" ] || { echo "bootstrap-state: --subscription is required" >&2; exit 2; }
if ! [[ "$prefix" =~ ^[a-z0-9]{3,14}$ ]]; then
  echo "bootstrap-state: --prefix '$prefix' must be 3-14 lowercase letters or digits (it names the storage account)" >&2
  exit 2
fi

# Globally unique names: prefix + a stable hash of the subscription.
suffix="$(printf '%s' "$subscription" | sha256sum | cut -c1-6)"
rg="${prefix}-rg"
account="${prefix}${suffix}"
container="pulumi-state"
vault="${prefix}-kv-${suffix}"
key="pulumi-secrets"
scope_rg="/subscriptions/${subscription}/resourceGroups/${rg}"

run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

run az account set --subscription "$subscription"
run az group create --name "$rg" --location "$location" --output none
# State: private, TLS 1.2, no shared keys (Entra ID only), versioned with soft delete so a bad write is recoverable.
run az storage account create --name "$account" --resource-group "$rg" --location "$location" \
  --sku Standard_ZRS --kind StorageV2 --min-tls-version TLS1_2 --allow-blob-public-access false \
  --allow-shared-key-access false --https-only true --output none
run az storage account blob-service-properties update --account-name "$account" --resource-group "$rg" \
  --enable-versioning true --enable-delete-retention true --delete-retention-days 30 \
  --enable-container-delete-retention true --container-delete-retention-days 30 --output none
run az storage container create --name "$container" --account-name "$account" --auth-mode login --output none
# Secrets provider: an RSA key in an RBAC vault with purge protection (losing the key loses every secret).
run az keyvault create --name "$vault" --resource-group "$rg" --location "$location" \
  --enable-rbac-authorization true --enable-purge-protection true --retention-days 90 --output none
for principal in "${principals[@]}"; do
  run az role assignment create --assignee-object-id "$principal" --assignee-principal-type ServicePrincipal \
    --role "Storage Blob Data Contributor" \
    --scope "${scope_rg}/providers/Microsoft.Storage/storageAccounts/${account}" --output none
  run az role assignment create --assignee-object-id "$principal" --assignee-principal-type ServicePrincipal \
    --role "Key Vault Crypto User" --scope "${scope_rg}/providers/Microsoft.KeyVault/vaults/${vault}" --output none
done
# Creating the key needs Key Vault Crypto Officer for whoever runs this script (grant it once, or run as owner).
run az keyvault key create --vault-name "$vault" --name "$key" --kty RSA --size 4096 --output none

cat <<DONE

State backend ready. Everyone who deploys (and CI) now runs:

  export AZURE_STORAGE_ACCOUNT=${account}
  export AZURE_KEYVAULT_AUTH_VIA_CLI=true     # let the secrets provider use your az login
  pulumi login azblob://${container}

Create each stack with the Key Vault secrets provider (once), or move an existing stack to it:

  pulumi stack init dev --secrets-provider "azurekeyvault://${vault}.vault.azure.net/keys/${key}"
  pulumi stack change-secrets-provider --stack dev "azurekeyvault://${vault}.vault.azure.net/keys/${key}"

CI: set the repository variables PULUMI_BACKEND_URL=azblob://${container} and PULUMI_STATE_ACCOUNT=${account}.
DONE
