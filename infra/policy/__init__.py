"""Policy rules shared by the CrossGuard pack (infra/policy/__main__.py) and `mlopsctl check` (offline)."""
