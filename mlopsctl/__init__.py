"""mlopsctl: the tools around the Pulumi program in `infra/`, in three layers that import only downwards.

- `plan/`: the plan model (`Plan`, `Resource`, plan JSON files, the facts about each resource type) and the
  offline engine that runs the real program under Pulumi's mocks;
- `reports/`: what is made of plans and stack configs (tree, diff, diagram, cost table, configuration
  reference, bundle targets, policy report, generated doc blocks);
- `commands/`: argument parsing and orchestration, one module per subcommand; `main` dispatches and turns
  every `ToolError` (and a bad stack config) into one line and exit 2;
- `verify/`: the post-deploy checks against a live workspace.

`infra/` never imports from here: `pulumi up` loads only the program.
"""
