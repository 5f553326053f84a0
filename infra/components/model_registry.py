"""The environment's served models as Unity Catalog registered models, and an MLflow experiment for each.

A registered model is the container the retrain job registers versions into and moves aliases on. Its owner is
the job's run-as principal: creating versions and setting aliases need ownership of the registered model
(databricks-sdk, service/catalog.py, RegisteredModelsAPI: "To update ... aliases, create a new model version
... users must be owners of the registered model"). The deployer gets EXECUTE on it (the endpoints it creates
load the model); everyone else's access is the catalog's access matrix, inherited by the model.

Aliases are never declared here: the provider reads a model without its aliases
(terraform-provider-databricks, catalog/resource_registered_model.go: Read is RegisteredModels.GetByFullName,
which does not ask for include_aliases), so the job's alias moves are not drift and a deploy never resets them.

Each model's experiment lives in the stack's experiment folder (`<root>/<stack>/<model>`), with the folder's
group permissions set on it explicitly and CAN_MANAGE for the run-as principal, which logs the training runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

# Experiments know CAN_READ, CAN_EDIT and CAN_MANAGE; a folder's CAN_RUN has no experiment counterpart, so it
# reads (terraform-provider-databricks, permissions/permission_definitions.go, "mlflowExperiment").
EXPERIMENT_LEVEL = {"CAN_READ": "CAN_READ", "CAN_RUN": "CAN_READ", "CAN_EDIT": "CAN_EDIT", "CAN_MANAGE": "CAN_MANAGE"}


def experiment_name(experiment_path: str, model: str) -> str:
    """`/Workspace/ml_experiments/dev` + `ml_dev_catalog.models.mlops_churn` -> `.../dev/mlops_churn`."""
    return f"{experiment_path}/{model.rsplit('.', 1)[-1]}"


@dataclass(frozen=True)
class ModelRegistryArgs:
    models: Sequence[str]                       # catalog.schema.model, each once
    owner_application_id: str                   # the retrain job's run-as principal
    deployer_application_id: str                # runs `pulumi up`: creates the endpoints that load the models
    experiment_path: str                        # the stack's experiment folder
    experiment_folder: pulumi.Resource          # its Directory: experiments are created inside it
    experiment_permissions: Mapping[str, str]   # group display name -> folder permission level
    provider: dbx.Provider
    comment: str = ""
    protect: bool = False           # a registered model holds every version: prod protects it
    retain_on_delete: bool = False
    # "catalog.schema" -> the UC schema resource each model waits for
    schemas: Mapping[str, pulumi.Resource] = field(default_factory=dict)
    # The principals (the owner and the groups) in the workspace: ownership and permissions name them.
    depends_on: Sequence[pulumi.Resource] = ()


class ModelRegistry(pulumi.ComponentResource):
    """mlops:platform:ModelRegistry: registered models owned by the platform, their experiments and access."""

    models: dict[str, dbx.RegisteredModel]
    ready: dict[str, dbx.Grants]  # what an endpoint serving the model waits for
    grant_rows: list[dict[str, object]]  # the same grants in the shape of the `grants` stack output
    experiments: dict[str, dbx.MlflowExperiment]
    experiment_names: dict[str, str]

    def __init__(self, name: str, args: ModelRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:ModelRegistry", name, None, opts)
        self.models, self.ready, self.experiments, self.experiment_names = {}, {}, {}, {}
        self.grant_rows = []
        for full_name in dict.fromkeys(args.models):
            catalog, schema, model = full_name.split(".")
            schema_resource = args.schemas.get(f"{catalog}.{schema}")
            waits = [*([schema_resource] if schema_resource else []), *args.depends_on]
            self.models[full_name] = dbx.RegisteredModel(
                f"model-{catalog}-{schema}-{model}",
                catalog_name=catalog, schema_name=schema, name=model,
                owner=args.owner_application_id,
                comment=args.comment or None,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=waits,
                                            protect=args.protect, retain_on_delete=args.retain_on_delete))
            # The endpoints' creator loads the model: EXECUTE (Databricks docs, "Upgrade ML workflows to target
            # models in Unity Catalog": to load or deploy a model). The deployer may grant it as the owner of the
            # model's catalog and schema; everything else is the catalog's access matrix, inherited.
            self.ready[full_name] = dbx.Grants(
                f"model-{catalog}-{schema}-{model}-grants", model=full_name,
                grants=[dbx.GrantsGrantArgs(principal=args.deployer_application_id, privileges=["EXECUTE"])],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[self.models[full_name], *args.depends_on]))
            # Grants APIs name a model's securable type FUNCTION (databricks-sdk, service/catalog.py,
            # RegisteredModelsAPI), which is how `mlopsctl verify` reads them back.
            self.grant_rows.append({"securableType": "function", "securable": full_name,
                                    "principal": args.deployer_application_id, "privileges": ["EXECUTE"]})

            path = experiment_name(args.experiment_path, full_name)
            self.experiment_names[full_name] = path
            experiment = dbx.MlflowExperiment(
                f"experiment-{catalog}-{schema}-{model}", name=path,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[args.experiment_folder]))
            self.experiments[full_name] = experiment
            controls = [dbx.PermissionsAccessControlArgs(group_name=group, permission_level=EXPERIMENT_LEVEL[level])
                        for group, level in sorted(args.experiment_permissions.items())]
            controls.append(dbx.PermissionsAccessControlArgs(service_principal_name=args.owner_application_id,
                                                             permission_level="CAN_MANAGE"))
            dbx.Permissions(
                f"experiment-{catalog}-{schema}-{model}-permissions", experiment_id=experiment.id,
                access_controls=controls,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)))
        self.register_outputs({"models": list(self.models), "experiments": self.experiment_names})
