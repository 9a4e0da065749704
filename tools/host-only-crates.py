#!/usr/bin/env python3
"""Prints the packages of Cargo.lock that only the build uses: proc macros, build scripts' and
proc macros' dependencies, nothing a workspace crate runs. Cargo.toml builds them unoptimised in
the dev profile ([profile.dev.package.NAME] opt-level = 0), one by one, because the glob
[profile.dev.package."*"] outranks [profile.dev.build-override]. Run it after a dependency
change and compare with Cargo.toml:

    cargo metadata --format-version 1 --locked | tools/host-only-crates.py
"""
import json
import sys
from collections import deque

metadata = json.load(sys.stdin)
nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
names = {package["id"]: package["name"] for package in metadata["packages"]}
proc_macros = {
    package["id"]
    for package in metadata["packages"]
    if any("proc-macro" in target["kind"] for target in package["targets"])
}
# What a workspace crate (or its tests) runs: reached through normal and dev dependencies,
# never through a proc macro or a build dependency.
run_time, queue = set(), deque(metadata["workspace_members"])
while queue:
    package = queue.popleft()
    if package in run_time:
        continue
    run_time.add(package)
    for dep in nodes[package]["deps"]:
        kinds = [kind["kind"] for kind in dep["dep_kinds"]]
        if dep["pkg"] not in proc_macros and any(kind in (None, "dev") for kind in kinds):
            queue.append(dep["pkg"])
for name in sorted({names[package] for package in set(nodes) - run_time}):
    print(name)
