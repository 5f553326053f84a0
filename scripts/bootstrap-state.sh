#!/usr/bin/env bash
# Bootstrap the team state backend: an Azure Blob container for Pulumi state (DIY azblob backend) and one
# Azure Key Vault key per stack as its secrets provider, with per-stack access:
#   writer of stack S  writes only S's state paths (an ABAC condition on Storage Blob Data Contributor) and
#                      decrypts S's key and the keys of the stacks S reads through StackReferences;
#   reader of stack S  reads the container (Storage Blob Data Reader) and decrypts the same keys: enough for
#                      `pulumi preview` and drift checks, never for an update.
#   admin              creates the stacks (`pulumi stack init`) and the keys: unconditioned Storage Blob Data
#                      Contributor on the container and Key Vault Crypto Officer on the vault.
# Idempotent: every resource and role assignment is looked up first, so a second run changes nothing.
# --dry-run still runs the read-only look-ups (az must be logged in) and prints each change as `+ az ...`.
#
# Usage:
#   scripts/bootstrap-state.sh --subscription SUB [--location eastus2] [--prefix mlopsstate]
#       [--project mlops-platform] [--stacks dev,test,prod] [--reads test=dev --reads prod=dev,test]
#       [--writer STACK=OBJECT_ID]... [--reader STACK=OBJECT_ID]... [--admin OBJECT_ID] [--dry-run]
# OBJECT_ID: the Entra object id of a service principal, managed identity, user or group (the type is looked
#   up: `az ad sp show`, `az ad user show`, `az ad group show`). --admin defaults to the signed-in user.
# --reads S=A,B: the stacks whose outputs S reads (default test=dev and prod=dev,test, the deploy order).
set -euo pipefail

location="eastus2"
prefix="mlopsstate"
project="mlops-platform"
subscription=""
stacks_csv="dev,test,prod"
admin=""
dry_run=0
writers=()
readers=()
declare -A reads=([test]="dev" [prod]="dev,test")

usage_error() { echo "bootstrap-state: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --subscription) subscription="${2:-}"; shift 2 ;;
    --location) location="${2:-}"; shift 2 ;;
    --prefix) prefix="${2:-}"; shift 2 ;;
    --project) project="${2:-}"; shift 2 ;;
    --stacks) stacks_csv="${2:-}"; shift 2 ;;
    --writer) writers+=("${2:-}"); shift 2 ;;
    --reader) readers+=("${2:-}"); shift 2 ;;
    --reads)
      [[ "${2:-}" == *=* ]] || usage_error "--reads takes STACK=OTHER[,OTHER], got '${2:-}'"
      reads["${2%%=*}"]="${2#*=}"; shift 2 ;;
    --admin) admin="${2:-}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) usage_error "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$subscription" ] || usage_error "--subscription is required"
if ! [[ "$prefix" =~ ^[a-z0-9]{3,14}$ ]]; then
  usage_error "--prefix '$prefix' must be 3-14 lowercase letters or digits (it names the storage account)"
fi
IFS=, read -r -a stacks <<< "$stacks_csv"
is_stack() { local s; for s in "${stacks[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
for grant in ${writers[@]+"${writers[@]}"} ${readers[@]+"${readers[@]}"}; do
  [[ "$grant" == *=?* ]] || usage_error "--writer/--reader take STACK=OBJECT_ID, got '$grant'"
  is_stack "${grant%%=*}" || usage_error "unknown stack '${grant%%=*}' in '$grant' (stacks: $stacks_csv)"
done
for s in "${!reads[@]}"; do
  is_stack "$s" || continue
  IFS=, read -r -a others <<< "${reads[$s]}"
  for o in "${others[@]}"; do
    is_stack "$o" || usage_error "--reads $s=${reads[$s]}: unknown stack '$o' (stacks: $stacks_csv)"
  done
done

# Globally unique names: prefix + a stable hash of the subscription.
suffix="$(printf '%s' "$subscription" | sha256sum | cut -c1-6)"
rg="${prefix}-rg"
account="${prefix}${suffix}"
container="pulumi-state"
vault="${prefix}-kv-${suffix}"
scope_rg="/subscriptions/${subscription}/resourceGroups/${rg}"
scope_account="${scope_rg}/providers/Microsoft.Storage/storageAccounts/${account}"
scope_container="${scope_account}/blobServices/default/containers/${container}"
scope_vault="${scope_rg}/providers/Microsoft.KeyVault/vaults/${vault}"
key_name() { printf 'pulumi-%s' "$1"; }
scope_key() { printf '%s/keys/%s' "$scope_vault" "$(key_name "$1")"; }

# A change: printed under --dry-run, run otherwise.
change() {
  if [ "$dry_run" -eq 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}
# A read-only look-up: always runs; its failure means "not there".
exists() { "$@" --only-show-errors --output none >/dev/null 2>&1; }

declare -A principal_types=()
resolve_type() {  # the type ARM must be told (a wrong one fails with UnmatchedPrincipalType); looked up once
  local id="$1"
  [ -z "${principal_types[$id]:-}" ] || return 0
  if exists az ad sp show --id "$id"; then principal_types[$id]=ServicePrincipal
  elif exists az ad user show --id "$id"; then principal_types[$id]=User
  elif exists az ad group show --group "$id"; then principal_types[$id]=Group
  else echo "bootstrap-state: $id is not a service principal, user or group in this tenant" >&2; exit 2
  fi
}

# Writes of one stack's state, and nothing else. The DIY backend's layout (pulumi/pulumi pkg/backend/diy:
# store.go StackBasePath/HistoryDir/BackupDir, lock.go stackLockDir, state.go backupTarget) for project P, stack S:
#   .pulumi/stacks/P/S.json[.gz|.zst][.bak]   .pulumi/locks/organization/P/S/<id>.json
#   .pulumi/history/P/S/...                   .pulumi/backups/P/S/...
# The condition targets every write/delete data action of Storage Blob Data Contributor (ABAC actions and
# attributes for Blob Storage: blobs/write, blobs/add/action, blobs/delete, blobs/move/action all carry the
# Blob path attribute); reads and lists stay unconditioned, because a StackReference reads the other stacks.
write_condition() {
  local s="$1" attr="@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
  local a="Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
  printf "((!(ActionMatches{'%s/write'}) AND !(ActionMatches{'%s/add/action'}) AND !(ActionMatches{'%s/delete'})" "$a" "$a" "$a"
  printf " AND !(ActionMatches{'%s/move/action'})) OR (" "$a"
  printf "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals '%s' AND (" "$container"
  printf "%s StringStartsWith '.pulumi/stacks/%s/%s.json'" "$attr" "$project" "$s"
  printf " OR %s StringStartsWith '.pulumi/locks/organization/%s/%s/'" "$attr" "$project" "$s"
  printf " OR %s StringStartsWith '.pulumi/history/%s/%s/'" "$attr" "$project" "$s"
  printf " OR %s StringStartsWith '.pulumi/backups/%s/%s/'))))" "$attr" "$project" "$s"
}

# The role assignments made directly at a scope (principal, role, id, condition per line), looked up once per
# scope into at_scope (in this shell, not a subshell, so the cache holds).
declare -A at_scope=()
load_scope() {
  local scope="$1"
  if [ -z "${at_scope[$scope]+set}" ]; then
    at_scope[$scope]="$(az role assignment list --scope "$scope" \
      --query "[?scope=='$scope'].[principalId, roleDefinitionName, id, condition]" --output tsv 2>/dev/null || true)"
  fi
}

# One role assignment, exactly once: an identical one is kept; one with another condition is replaced.
declare -A ensured=()
ensure_role() {
  local principal="$1" role="$2" scope="$3" condition="${4:-}" type p r id cond found=0
  [ -z "${ensured[$principal|$role|$scope|$condition]:-}" ] || return 0  # e.g. one reader of several stacks
  ensured[$principal|$role|$scope|$condition]=1
  resolve_type "$principal"
  type="${principal_types[$principal]}"
  load_scope "$scope"
  while IFS=$'\t' read -r p r id cond; do
    [ "$p" = "$principal" ] && [ "$r" = "$role" ] || continue
    [ "$cond" = "None" ] && cond=""
    if [ "$cond" = "$condition" ] && [ "$found" -eq 0 ]; then found=1; continue; fi
    echo "replacing $role for $principal on ${scope##*/}: its condition differs" >&2
    change az role assignment delete --ids "$id" --output none
  done <<< "${at_scope[$scope]}"
  [ "$found" -eq 1 ] && return 0
  local args=(az role assignment create --assignee-object-id "$principal" --assignee-principal-type "$type"
              --role "$role" --scope "$scope" --output none)
  if [ -n "$condition" ]; then args+=(--condition "$condition" --condition-version 2.0); fi
  change "${args[@]}"
}

# The grants an earlier version of this script made (every principal could write every stack): removed.
revoke_broad() {
  local principal="$1" pair role scope p r id cond
  for pair in "Storage Blob Data Contributor|$scope_account" "Key Vault Crypto User|$scope_vault"; do
    role="${pair%%|*}"; scope="${pair#*|}"
    load_scope "$scope"
    while IFS=$'\t' read -r p r id cond; do
      [ "$p" = "$principal" ] && [ "$r" = "$role" ] || continue
      echo "revoking the stack-wide $role of $principal" >&2
      change az role assignment delete --ids "$id" --output none
    done <<< "${at_scope[$scope]}"
  done
}

stacks_read_by() {  # S itself, then the stacks it references
  local s="$1" o others
  printf '%s\n' "$s"
  IFS=, read -r -a others <<< "${reads[$s]:-}"
  for o in ${others[@]+"${others[@]}"}; do printf '%s\n' "$o"; done
}

if [ -z "$admin" ]; then
  admin="$(az ad signed-in-user show --query id --output tsv 2>/dev/null || true)"
  [ -n "$admin" ] || usage_error "--admin OBJECT_ID is required when the signed-in account is not a user"
fi
sub=(--subscription "$subscription")

exists az group show --name "$rg" "${sub[@]}" \
  || change az group create --name "$rg" --location "$location" "${sub[@]}" --output none
# State: private, TLS 1.2, no shared keys (Entra ID only, which is what makes the role conditions binding),
# versioned with soft delete so a bad write is recoverable.
exists az storage account show --name "$account" --resource-group "$rg" "${sub[@]}" \
  || change az storage account create --name "$account" --resource-group "$rg" --location "$location" "${sub[@]}" \
       --sku Standard_ZRS --kind StorageV2 --min-tls-version TLS1_2 --allow-blob-public-access false \
       --allow-shared-key-access false --https-only true --output none
protection="$(az storage account blob-service-properties show --account-name "$account" --resource-group "$rg" \
  "${sub[@]}" --query "[isVersioningEnabled, deleteRetentionPolicy.enabled, deleteRetentionPolicy.days, \
containerDeleteRetentionPolicy.enabled, containerDeleteRetentionPolicy.days]" --output tsv 2>/dev/null \
  | tr -s '\t\n' ' ' | sed 's/ *$//' || true)"
[ "$protection" = "True True 30 True 30" ] || [ "$protection" = "true true 30 true 30" ] \
  || change az storage account blob-service-properties update --account-name "$account" --resource-group "$rg" \
       "${sub[@]}" --enable-versioning true --enable-delete-retention true --delete-retention-days 30 \
       --enable-container-delete-retention true --container-delete-retention-days 30 --output none
# The container through the management plane (Microsoft.Storage RP): the data plane would need a data role
# for the caller, and shared keys are off.
[ "$(az storage container-rm exists --storage-account "$account" --resource-group "$rg" --name "$container" \
     "${sub[@]}" --query exists --output tsv 2>/dev/null || true)" = "true" ] \
  || change az storage container-rm create --storage-account "$account" --resource-group "$rg" \
       --name "$container" --public-access off "${sub[@]}" --output none
# Secrets providers: an RBAC vault with purge protection (losing a key loses every secret of its stack).
exists az keyvault show --name "$vault" --resource-group "$rg" "${sub[@]}" \
  || change az keyvault create --name "$vault" --resource-group "$rg" --location "$location" "${sub[@]}" \
       --enable-rbac-authorization true --enable-purge-protection true --retention-days 90 --output none

# The admin creates keys (data plane: Key Vault Crypto Officer) and the stacks (`pulumi stack init` writes
# .pulumi/meta.yaml and each stack file).
ensure_role "$admin" "Key Vault Crypto Officer" "$scope_vault"
ensure_role "$admin" "Storage Blob Data Contributor" "$scope_container"

for s in "${stacks[@]}"; do
  if ! exists az keyvault key show --vault-name "$vault" --name "$(key_name "$s")"; then
    if [ "$dry_run" -eq 1 ]; then
      change az keyvault key create --vault-name "$vault" --name "$(key_name "$s")" --kty RSA --size 4096 \
        --ops encrypt decrypt --output none
    else
      # A new role assignment takes a few minutes to reach the vault's data plane: retry Forbidden.
      for attempt in 1 2 3 4 5 6 7 8 9 10; do
        az keyvault key create --vault-name "$vault" --name "$(key_name "$s")" --kty RSA --size 4096 \
          --ops encrypt decrypt --output none && break
        [ "$attempt" -lt 10 ] || { echo "bootstrap-state: cannot create key $(key_name "$s")" >&2; exit 1; }
        echo "waiting for the Key Vault Crypto Officer assignment to take effect ($attempt/10)" >&2
        sleep 30
      done
    fi
  fi
done

for grant in ${writers[@]+"${writers[@]}"}; do
  s="${grant%%=*}"; principal="${grant#*=}"
  revoke_broad "$principal"
  ensure_role "$principal" "Storage Blob Data Contributor" "$scope_container" "$(write_condition "$s")"
  while read -r k; do ensure_role "$principal" "Key Vault Crypto User" "$(scope_key "$k")"; done < <(stacks_read_by "$s")
done
for grant in ${readers[@]+"${readers[@]}"}; do
  s="${grant%%=*}"; principal="${grant#*=}"
  revoke_broad "$principal"
  ensure_role "$principal" "Storage Blob Data Reader" "$scope_container"
  while read -r k; do ensure_role "$principal" "Key Vault Crypto User" "$(scope_key "$k")"; done < <(stacks_read_by "$s")
done

cat <<DONE

State backend ready (account ${account}, container ${container}, vault ${vault}).
Everyone who runs Pulumi, and CI (repository variables PULUMI_STATE_ACCOUNT=${account},
PULUMI_BACKEND_URL=azblob://${container}):

  export AZURE_STORAGE_ACCOUNT=${account}
  pulumi login azblob://${container}

Then, once, as the admin: create each stack with its own key and commit the stack files it changes:

DONE
for s in "${stacks[@]}"; do
  printf '  pulumi stack init organization/%s/%s --secrets-provider "azurekeyvault://%s.vault.azure.net/keys/%s"\n' \
    "$project" "$s" "$vault" "$(key_name "$s")"
done
