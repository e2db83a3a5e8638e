"""Where the product ends and the tooling begins.

`pulumi up` runs `__main__.py`, which must never load the offline tooling in devkit/ (mock runtime,
engine-protocol harness); and only devkit/sdk_adapter.py may touch private parts of the Pulumi SDK.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pulumi.runtime

PROJECT_DIR = Path(__file__).resolve().parent.parent
ADAPTER = PROJECT_DIR / "devkit" / "sdk_adapter.py"
DEPLOY_SOURCES = ["__main__.py", "foundation", "components", "policies"]

# Names of the SDK's internals the offline preview needs; none of them is in `pulumi.runtime.__all__`.
PRIVATE_SDK_NAMES = {"_sync_await", "_ensure_event_loop", "rpc_manager", "SETTINGS", "run_pulumi_func",
                     "MockMonitor", "deserialize_properties", "analyzer_pb2", "analyzer_pb2_grpc", "CONFIG"}

# Deploy-time code cannot go through devkit, so what it needs from the SDK's internals is listed here
# with the reason; anything else is a failure.
DEPLOY_TIME_EXCEPTIONS = {
    ("foundation/settings", "pulumi.runtime.config"):
        "load_from_pulumi lists every config key, to report a misspelled one; the SDK has no public listing",
    ("foundation/settings", "CONFIG"): "same: the config store of `pulumi.runtime.set_all_config`",
    ("policies/server", "deserialize_properties"):
        "pulumi-policy's own deserializer (pulumi_policy.deserialize), which shares the SDK's name; the pack's "
        "analyzer service calls it as pulumi-policy does",
}


def python_files(*relative: str) -> Iterator[Path]:
    for name in relative:
        path = PROJECT_DIR / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for every import statement, at any depth (lazy imports included)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, [alias.name for alias in node.names]


def private_sdk_uses(path: Path) -> set[str]:
    """What `path` takes from the SDK that is not public: imports of `pulumi.runtime` submodules or of
    names outside `pulumi.runtime.__all__`, and any use of a known private name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    public = set(pulumi.runtime.__all__)
    found = set()
    for module, names in imported_modules(tree):
        if module.startswith("pulumi.runtime."):
            found.add(module)
        elif module == "pulumi.runtime":
            found |= {f"pulumi.runtime.{name}" for name in names if name not in public}
        if module.startswith("pulumi"):
            found |= PRIVATE_SDK_NAMES.intersection(names)
    through_adapter = {name for module, names in imported_modules(tree) if module == "devkit.sdk_adapter"
                       for name in names}
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in PRIVATE_SDK_NAMES and name not in through_adapter:
            found.add(name)
    return found


def test_importing_what_the_program_imports_loads_no_devkit_module():
    program = ast.parse((PROJECT_DIR / "__main__.py").read_text(encoding="utf-8"))
    modules = sorted({module for module, _ in imported_modules(program)})
    assert "foundation.stack" in modules and "foundation.settings" in modules
    probe = (f"import importlib, json, sys\n"
             f"for name in {modules!r}: importlib.import_module(name)\n"
             "print(json.dumps(sorted(m for m in sys.modules if m == 'devkit' or m.startswith('devkit.'))))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_no_deploy_time_module_imports_devkit():
    offenders = [f"{path.relative_to(PROJECT_DIR)} imports {module}"
                 for path in python_files(*DEPLOY_SOURCES)
                 for module, _ in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
                 if module == "devkit" or module.startswith("devkit.")]
    assert offenders == []


def test_only_the_sdk_adapter_touches_private_sdk_names():
    offenders, excepted = [], set()
    for path in python_files("devkit", *DEPLOY_SOURCES):
        if path == ADAPTER:
            continue
        relative = path.relative_to(PROJECT_DIR).with_suffix("").as_posix()
        for use in sorted(private_sdk_uses(path)):
            matching = {(prefix, name) for prefix, name in DEPLOY_TIME_EXCEPTIONS
                        if relative.startswith(prefix) and use == name}
            excepted |= matching
            if not matching:
                offenders.append(f"{relative}.py uses {use}")
    assert offenders == []
    # An exception nothing needs any more is removed, so the list stays the truth.
    assert excepted == set(DEPLOY_TIME_EXCEPTIONS)


def test_the_adapter_is_where_the_private_names_are():
    # The scan above would pass vacuously if it could not see these names; it sees them in the adapter.
    assert {"_sync_await", "rpc_manager", "SETTINGS", "pulumi.runtime.sync_await",
            "pulumi.runtime.settings"} <= private_sdk_uses(ADAPTER)
