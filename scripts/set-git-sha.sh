#!/usr/bin/env bash
# Sets mlops-platform:serving.gitSha (the traceability tag on every serving endpoint and job) in this CI
# checkout's Pulumi.<stack>.yaml. The change is never committed: the checkout is thrown away after the job.
#   set-git-sha.sh STACK                   the checked-out commit (deploys and PR previews: what `up` tags)
#   set-git-sha.sh STACK --last-deployed   the value of the stack's last successful `pulumi up` (drift): a
#                                          drift check with any other value reports every tag as drift
# The last deploy's value comes from `pulumi stack history --json` (newest first on the DIY backend,
# pkg/backend/diy/state.go getHistory): its `config` carries the object value of mlops-platform:serving, and
# its `environment` the commit the update ran from (`git.head`, pkg/cmd/pulumi/metadata/metadata.go).
# Usage: scripts/set-git-sha.sh STACK [--last-deployed]
set -euo pipefail
stack="${1:?usage: set-git-sha.sh STACK [--last-deployed]}"
mode="${2:-}"

fail() {
  local title="gitSha of stack ${stack}" message="$1"
  if [ -n "${TF_BUILD:-}" ]; then echo "##vso[task.logissue type=error]${title}: ${message}"
  else echo "::error title=${title}::${message}"; fi
  exit 1
}

case "$mode" in
  "")
    sha="$(git rev-parse HEAD)" || fail "not a git checkout"
    ;;
  --last-deployed)
    history="$(pulumi stack history --stack "$stack" --json --page-size 50 --non-interactive)" \
      || fail "cannot read the history of stack ${stack}"
    sha="$(printf '%s' "$history" | python3 -c '
import json, sys
for update in json.load(sys.stdin) or []:
    if update.get("kind") != "update" or update.get("result") != "succeeded":
        continue
    serving = ((update.get("config") or {}).get("mlops-platform:serving") or {}).get("objectValue") or {}
    print(serving.get("gitSha") or (update.get("environment") or {}).get("git.head") or "")
    break
')" || fail "cannot parse the history of stack ${stack}"
    [ -n "$sha" ] || fail "stack ${stack} has no successful pulumi up in its history: nothing to compare with"
    ;;
  *)
    fail "unknown option ${mode}; usage: set-git-sha.sh STACK [--last-deployed]"
    ;;
esac

# The program accepts 7 to 40 lowercase hex digits or 'unknown' (infra/config/serving.py, ServingConfig).
[[ "$sha" =~ ^([0-9a-f]{7,40}|unknown)$ ]] || fail "'${sha}' is not a git commit sha"
pulumi config set --path serving.gitSha "$sha" --stack "$stack" --non-interactive
echo "stack ${stack}: serving.gitSha = ${sha}"
