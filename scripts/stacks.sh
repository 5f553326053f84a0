#!/usr/bin/env bash
# The stacks of this project, one per Pulumi.<stack>.yaml, in promotion order: by the stack's
# `mlops-platform:environment` tier (dev, test, prod), then by name; the same list as the tools'
# infra.config.stack_order(). CI derives its per-stack matrices from it, so a new stack file is a new
# matrix entry.
#   scripts/stacks.sh [--json | --azure-matrix] [PROJECT_DIR]
#     (none)          one stack per line
#     --json          a JSON array, for GitHub Actions' fromJSON() matrices
#     --azure-matrix  a JSON object {"<stack>": {"STACK": "<stack>"}}, for an Azure Pipelines runtime matrix
set -euo pipefail

format=lines
case "${1:-}" in
  --json) format=json; shift ;;
  --azure-matrix) format=azure; shift ;;
esac
cd "${1:-$(dirname "$0")/..}"

rows=()
for file in Pulumi.*.yaml; do
  [ -f "$file" ] || continue
  stack=${file#Pulumi.}
  stack=${stack%.yaml}
  tier=$(sed -n 's/^ *mlops-platform:environment: *["'\'']\{0,1\}\([a-z]*\).*/\1/p' "$file" | head -n 1)
  case $tier in
    dev) rank=0 ;;
    test) rank=1 ;;
    prod) rank=2 ;;
    *) rank=3 ;;
  esac
  rows+=("$rank $stack")
done
[ "${#rows[@]}" -gt 0 ] || { echo "stacks.sh: no Pulumi.<stack>.yaml in $PWD" >&2; exit 2; }
mapfile -t stacks < <(printf '%s\n' "${rows[@]}" | LC_ALL=C sort -k1,1n -k2,2 | cut -d' ' -f2)

# Stack names are letters, digits, '-', '_' and '.' (Pulumi's rule), so they need no JSON escaping.
case $format in
  lines) printf '%s\n' "${stacks[@]}" ;;
  json)
    out=""
    for stack in "${stacks[@]}"; do out+="${out:+,}\"$stack\""; done
    echo "[$out]" ;;
  azure)
    out=""
    for stack in "${stacks[@]}"; do out+="${out:+,}\"$stack\":{\"STACK\":\"$stack\"}"; done
    echo "{$out}" ;;
esac
