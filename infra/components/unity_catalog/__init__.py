"""Unity Catalog and access of one environment, built from parts only it uses.

- governance.py: the UnityCatalog component (metastore assignment, storage credential, external locations,
  catalogs, schemas, bindings), which composes the others;
- identity.py: account groups, the CI/CD principal and who may enter the workspace;
- grant_table.py: the access-control matrix as rows (pure); grants.py: those rows as authoritative grants;
- workspace_settings.py: settings, secret scope and MLflow folders of the workspace.
"""

from infra.components.unity_catalog.governance import UnityCatalog, UnityCatalogArgs
from infra.components.unity_catalog.workspace_settings import KeyVaultRef

__all__ = ["KeyVaultRef", "UnityCatalog", "UnityCatalogArgs"]
