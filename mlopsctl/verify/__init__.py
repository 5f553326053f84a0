"""Post-deploy checks of the live workspace (databricks-sdk)."""
