"""One ComponentResource per job; a component built from others is a package (unity_catalog/, serving/).

Each takes a frozen `<Component>Args`: its config section (a validated model) or values StackConfig derives,
inputs from other components, and, when it must wait for resources it does not otherwise use, `depends_on`.
Components never read Pulumi config.
"""
