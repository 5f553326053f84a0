"""Reports over plans and stack configs (import the plan layer, never commands)."""
