# The two commands a newcomer needs: `make plan` and `make test`. Both bootstrap .venv from python3 alone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev
PLAN_JSON ?=

.PHONY: help venv plan test lint typecheck unit check-ci bench clean

help:
	@echo "make plan [STACK=dev|test|prod] [PLAN_JSON=file]   offline plan: tree, summary, policy verdicts"
	@echo "make test                                          ruff + mypy + pytest (+ workflow and secrets checks)"
	@echo "make bench                                         performance benchmark of plan and check"

# Pulumi starts the Python dynamic provider (the SQL functions) in the program folder `main: infra/` and resolves
# Pulumi.yaml's `virtualenv: .venv` from there (pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python):
# infra/.venv links to the project's .venv. Order-only: made when missing, never a reason to reinstall.
$(STAMP): pyproject.toml | infra/.venv
	@echo "Setting up $(VENV): the pinned packages from pyproject.toml (first run or after it changes; a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)
	@echo "$(VENV) is ready"

venv: $(STAMP)

infra/.venv:
	ln -sfn ../$(VENV) infra/.venv

plan: $(STAMP)
	$(BIN)/mlopsctl plan --stack $(STACK) $(if $(PLAN_JSON),--json $(PLAN_JSON))

lint: $(STAMP)
	$(BIN)/ruff check infra mlopsctl jobs tests scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2

test: check-ci lint typecheck unit

# Workflows and the pipeline against their vendored JSON schemas (offline), zizmor's offline audits, shellcheck
# on the delivery scripts, and a secrets scan of every tracked or new file against the reviewed baseline.
check-ci: $(STAMP)
	$(BIN)/shellcheck scripts/*.sh
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --regex-variant python --builtin-schema vendor.azure-pipelines azure-pipelines.yml
	$(BIN)/zizmor --offline --quiet .github/workflows
	@# Two scanners over halves of the files (the scan is most of check-ci's time), each with its own copy of the
	@# baseline: the hook rewrites line numbers in place, which must not dirty the tree.
	@git ls-files -z --cached --others --exclude-standard | grep -zv '^\.secrets\.baseline$$' \
		| xargs -0 -P 2 -n 150 sh -c 'b=$$(mktemp) && cp .secrets.baseline "$$b" \
			&& $(BIN)/detect-secrets-hook --baseline "$$b" "$$@"; rc=$$?; rm -f "$$b"; exit $$rc' detect-secrets; \
		rc=$$?; if [ $$rc -ne 0 ]; then echo "detect-secrets: see above; review, then refresh .secrets.baseline"; fi; \
		exit $$rc

bench: $(STAMP)
	$(BIN)/python -m mlopsctl.commands.bench $(if $(COLD),--cold)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache out

# Mutation testing (cosmic-ray) of the policy rules, the config validation and the grant table, each module
# against the tests of its area; not part of `make test` (docs/testing.md). Before stopping: make mutate CHANGED=1
#   make mutate [GROUP="policy rules"|"config validation"|"grant table"] [JOBS=2]
#   make mutate CHANGED=1 [BASE=main]              modules (or their tests) changed since the merge base
#   make mutate FILES="infra/policy/rules/azure.py" just these modules (test files select the modules they guard)
#   make mutate SAMPLE=0.2                          a fifth of the mutants (the same ones each run), for a quick score
.PHONY: mutate
mutate: $(STAMP)
	$(BIN)/python scripts/mutate.py $(if $(FILES),--files "$(FILES)") $(if $(CHANGED),--changed $(or $(BASE),main)) \
		$(if $(GROUP),--group "$(GROUP)") $(if $(JOBS),--jobs $(JOBS)) $(if $(SAMPLE),--sample $(SAMPLE))
