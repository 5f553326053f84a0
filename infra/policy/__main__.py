"""CrossGuard entry point: `pulumi preview --policy-pack infra/policy --policy-pack-config
infra/policy/config/<stack>.json` runs this (see PulumiPolicy.yaml). Constructing PolicyPack starts the
analyzer's gRPC server, so tests build the policies from `pack_arguments()` instead of importing this.
"""

from pulumi_policy import PolicyPack

from infra.policy.pack import pack_arguments

PolicyPack(**pack_arguments())
