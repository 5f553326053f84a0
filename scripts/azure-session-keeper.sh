#!/usr/bin/env bash
# Keeps the Azure CLI signed in for the whole GitHub Actions job (the equivalent of Azure Pipelines' AzureCLI@2
# `keepAzSessionActive`). Why: azure/login signs the CLI in once with the job's GitHub ID token, which expires
# five minutes after it is issued (exp - iat = 300 s); the CLI needs that token again for every new access
# token (a new resource, or an expired one after 60-90 minutes), and then fails with AADSTS700024 ("Client
# assertion is not within its valid time range"). Everything that authenticates through
# the CLI is affected on a long `pulumi up`: the state backend and the Key Vault secrets provider (go-cloud
# azureblob and azurekeyvault use azidentity's DefaultAzureCredential, whose Azure CLI credential runs
# `az account get-access-token`) and the Databricks provider with auth type azure-cli.
#
# Every INTERVAL seconds (default 240, under the token's 300 s) this asks GitHub for a fresh ID token
# (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, audience api://AzureADTokenExchange), signs the CLI in with it into a
# new config directory, and then atomically repoints AZURE_CONFIG_DIR's symlink at it, so a concurrent
# `az account get-access-token` reads either the old complete session or the new one, never a half-written file.
#
# Usage (GitHub Actions, after azure/login):
#   scripts/azure-session-keeper.sh start    sign in now, export AZURE_CONFIG_DIR via $GITHUB_ENV, keep refreshing
#                                            in the background until the job ends (or `stop`): the runner ends a
#                                            step's leftover processes only when the job completes ("Cleaning up
#                                            orphan processes", actions/runner src/Runner.Worker/JobExtension.cs)
#   scripts/azure-session-keeper.sh once     sign in once (what each refresh does)
#   scripts/azure-session-keeper.sh stop     stop refreshing and delete the sessions
# Needs: AZURE_CLIENT_ID, AZURE_TENANT_ID, optional AZURE_SUBSCRIPTION_ID, and `permissions: id-token: write`.
set -euo pipefail

root="${AZURE_SESSION_ROOT:-${RUNNER_TEMP:-/tmp}/azure-session}"
link="$root/current"
interval="${AZURE_SESSION_INTERVAL:-240}"

die() { echo "::error title=Azure session::$*" >&2; exit 1; }

github_id_token() {
  [ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] && [ -n "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ] \
    || die "no GitHub OIDC token endpoint: the job needs 'permissions: id-token: write'"
  curl -fsS --retry 3 -H "Authorization: bearer ${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" \
      "${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=api://AzureADTokenExchange" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])'
}

once() {
  : "${AZURE_CLIENT_ID:?AZURE_CLIENT_ID is required}" "${AZURE_TENANT_ID:?AZURE_TENANT_ID is required}"
  local token dir
  token="$(github_id_token)" || die "cannot get a GitHub ID token"
  mkdir -p "$root"
  chmod 700 "$root"
  dir="$(mktemp -d "$root/s.XXXXXXXX")"
  AZURE_CONFIG_DIR="$dir" az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" \
    --federated-token "$token" --allow-no-subscriptions --output none
  if [ -n "${AZURE_SUBSCRIPTION_ID:-}" ]; then
    AZURE_CONFIG_DIR="$dir" az account set --subscription "$AZURE_SUBSCRIPTION_ID" --output none
  fi
  ln -sfn "$dir" "$root/next"
  mv -T "$root/next" "$link"
  # Keep the previous session for readers that resolved the link just before the switch; drop older ones.
  find "$root" -mindepth 1 -maxdepth 1 -type d -name 's.*' ! -newer "$dir" ! -path "$dir" -printf '%T@ %p\n' \
    | sort -rn | tail -n +2 | cut -d' ' -f2- | xargs -r rm -rf
}

case "${1:-}" in
  once) once ;;
  start)
    once
    if [ -n "${GITHUB_ENV:-}" ]; then echo "AZURE_CONFIG_DIR=$link" >> "$GITHUB_ENV"; fi
    nohup bash -c "while sleep $interval; do '$0' once || echo 'azure-session-keeper: refresh failed' >&2; done" \
      >> "$root.log" 2>&1 &
    echo $! > "$root.pid"
    echo "Azure CLI session in $link, refreshed every ${interval}s (pid $(cat "$root.pid"))"
    ;;
  stop)
    if [ -f "$root.pid" ]; then kill "$(cat "$root.pid")" 2>/dev/null || true; rm -f "$root.pid"; fi
    rm -rf "$root"
    ;;
  *) echo "usage: azure-session-keeper.sh start|once|stop" >&2; exit 2 ;;
esac
