#!/usr/bin/env bash
# Drift check of one stack: refresh from the cloud, then expect the program to change nothing.
# Exit codes of the Pulumi CLI (>= 3.226.1; see https://www.pulumi.com/docs/iac/cli/exit-codes/):
#   0  no changes            -> no drift, exit 0
#   7  changes were found    -> drift: exit 1 with an ::error:: annotation and a job summary
#   *  anything else         -> the check itself failed (auth, network, program error): exit 2
# Usage: scripts/drift-check.sh STACK [extra pulumi preview flags]
set -uo pipefail
stack="${1:?usage: drift-check.sh STACK}"
shift
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
log="$(mktemp)"

pulumi preview --stack "$stack" --refresh --expect-no-changes --diff --non-interactive "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

case "$rc" in
  0)
    echo "no drift in stack $stack"
    echo "### $stack: no drift" >> "$summary"
    exit 0
    ;;
  7)
    echo "::error title=Drift in $stack::the live resources of stack $stack differ from the program; see the preview above"
    {
      echo "### $stack: DRIFT"
      echo
      echo "The cloud no longer matches the stack. Review the changes below, then either \`pulumi up\` to"
      echo "restore the declared state or change the program to adopt the manual change."
      echo
      echo '```'
      tail -n 200 "$log"
      echo '```'
    } >> "$summary"
    exit 1
    ;;
  *)
    echo "::error title=Drift check failed for $stack::pulumi preview exited $rc (an error, not drift)"
    echo "### $stack: drift check FAILED (pulumi exit $rc)" >> "$summary"
    exit 2
    ;;
esac
