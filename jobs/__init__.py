"""The platform's own Databricks job code: each module here is one job's entry point, deployed as is.

Rules for a module in this package (the program uploads it as a workspace file; `JobCode` in
`infra/components/job_code.py`):
- self-contained: it imports only the standard library and what the job's serverless environment provides
  (mlflow, databricks-sdk), never another module of this package, `infra` or `mlopsctl`; the workspace has
  only this one file;
- the decisions are pure functions over plain data or a small protocol (a registry, a clock), unit-tested in
  `tests/` against fakes; `main(argv)` only parses the job's parameters and wires the real clients;
- importable without Databricks: heavy imports happen inside `main`.
"""
