#!/usr/bin/env python3
"""A stand-in for the Azure CLI, enough for scripts/bootstrap-state.sh: look-ups answer from a JSON state file
(FAKE_AZ_STATE), changes update it and are appended to a log (FAKE_AZ_LOG, one JSON argv per line)."""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

GLOBAL_FLAGS = {"--only-show-errors": 0, "--output": 1, "-o": 1, "--subscription": 1}


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_AZ_STATE"])
    state = json.loads(state_path.read_text())
    words: list[str] = []
    opts: dict[str, str] = {}
    flag = ""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in GLOBAL_FLAGS:
            i += 1 + GLOBAL_FLAGS[arg]
            flag = ""
            continue
        if arg.startswith("--"):
            flag = arg
            opts[flag] = ""
        elif flag:  # positional words come first; after a flag, every word is its value (`--ops a b`)
            opts[flag] = f"{opts[flag]} {arg}".strip()
        else:
            words.append(arg)
        i += 1
    cmd = " ".join(words)
    res = state.setdefault("resources", [])
    roles = state.setdefault("roles", [])

    def changed() -> None:
        with open(os.environ["FAKE_AZ_LOG"], "a") as log:
            log.write(json.dumps(argv) + "\n")
        state_path.write_text(json.dumps(state))

    lookups = {
        "ad sp show": lambda: opts["--id"] in state.get("sps", []),
        "ad user show": lambda: opts["--id"] in state.get("users", []),
        "ad group show": lambda: opts["--group"] in state.get("groups", []),
        "group show": lambda: f"rg:{opts['--name']}" in res,
        "storage account show": lambda: f"account:{opts['--name']}" in res,
        "keyvault show": lambda: f"vault:{opts['--name']}" in res,
        "keyvault key show": lambda: f"key:{opts['--vault-name']}/{opts['--name']}" in res,
    }
    creates = {
        "group create": lambda: f"rg:{opts['--name']}",
        "storage account create": lambda: f"account:{opts['--name']}",
        "storage account blob-service-properties update": lambda: f"protection:{opts['--account-name']}",
        "storage container-rm create": lambda: f"container:{opts['--storage-account']}/{opts['--name']}",
        "keyvault create": lambda: f"vault:{opts['--name']}",
        "keyvault key create": lambda: f"key:{opts['--vault-name']}/{opts['--name']}",
    }
    if cmd in lookups:
        return 0 if lookups[cmd]() else 3
    if cmd == "ad signed-in-user show":
        if "signed_in" not in state:
            return 1
        print(state["signed_in"])
        return 0
    if cmd == "storage account blob-service-properties show":
        if f"protection:{opts['--account-name']}" not in res:
            return 3
        print("True\nTrue\n30\nTrue\n30")
        return 0
    if cmd == "storage container-rm exists":
        print("true" if f"container:{opts['--storage-account']}/{opts['--name']}" in res else "false")
        return 0
    if cmd in creates:
        res.append(creates[cmd]())
        changed()
        return 0
    if cmd == "role assignment list":  # --scope S: principal, role, id, condition of those made at S
        for ra in roles:
            if ra["scope"] == opts["--scope"]:
                print(f"{ra['principal']}\t{ra['role']}\t{ra['id']}\t{ra['condition'] or 'None'}")
        return 0
    if cmd == "role assignment create":
        principal = opts["--assignee-object-id"]
        kind = opts["--assignee-principal-type"]
        actual = ("ServicePrincipal" if principal in state.get("sps", []) else
                  "User" if principal in state.get("users", []) else "Group")
        if kind != actual:
            print(f"(UnmatchedPrincipalType) {principal} is a {actual}, not a {kind}", file=sys.stderr)
            return 1
        roles.append({"id": f"/ra/{uuid.uuid4()}", "principal": principal, "type": kind, "role": opts["--role"],
                      "scope": opts["--scope"], "condition": opts.get("--condition", "")})
        changed()
        return 0
    if cmd == "role assignment delete":
        state["roles"] = [ra for ra in roles if ra["id"] != opts["--ids"]]
        changed()
        return 0
    print(f"fake az: unsupported command: {argv}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
