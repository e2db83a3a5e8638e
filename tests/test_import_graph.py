"""No import circles in the project's own modules.

The graph is read from the source with `ast`, not from what Python happened to import: every import
statement counts, including those inside functions and under `if TYPE_CHECKING:`, because a late import
that closes a circle only hides it (the two modules still cannot be understood, tested or split apart
without each other). Importing `a.b.c` also runs the package `a.b`'s `__init__`, so that is an edge too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "foundation", "policies", "devkit", "bootstrap", "scripts")
# bootstrap/ and scripts/ are run as programs with their own folder on sys.path (`import bench_preview`).
SCRIPT_FOLDERS = ("bootstrap", "scripts")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    main = root / "__main__.py"
    modules = {module_name(main, root): main} if main.exists() else {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules[module_name(path, root)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path], folder: str) -> str | None:
    """The project module an absolute import name refers to: itself, its closest enclosing module, or a
    sibling script of a bootstrap/ or scripts/ program."""
    candidates = [name]
    if folder in SCRIPT_FOLDERS:
        candidates.append(f"{folder}.{name}")
    for candidate in candidates:
        parts = candidate.split(".")
        while parts:
            if ".".join(parts) in modules:
                return ".".join(parts)
            parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module `module` imports, anywhere in its body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    folder = module.split(".")[0]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, modules, folder)
                if target is not None:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from package import submodule` imports the submodule; `from module import name` the module.
                target = _resolve(f"{base}.{alias.name}", modules, folder) if base else None
                if target is not None:
                    found.add(target)
    # Importing a.b.c first runs a/__init__.py and a/b/__init__.py: an edge to each package that is not
    # one of the importer's own (those are already being initialised when it runs).
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    for target in list(found):
        parts = target.split(".")
        found |= {package for package in (".".join(parts[:i]) for i in range(1, len(parts)))
                  if package in modules and package not in own}
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), as a path
    `a -> b -> ... -> a` through that component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan: the graph is small, but recursion depth should not depend on it.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_through(component, graph) for component in components]


def _cycle_through(component: set[str], graph: dict[str, set[str]]) -> list[str]:
    start = min(component)
    # Shortest path from start back to start inside the component (breadth first).
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")


def test_the_project_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    (tmp_path / "components").mkdir()
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    (tmp_path / "components" / "__init__.py").write_text("")
    (tmp_path / "components" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from components.b import B\n")
    (tmp_path / "components" / "b.py").write_text("def late():\n    from components import a\n")
    graph = {module: imports_of(module, path, project_modules(tmp_path))
             for module, path in project_modules(tmp_path).items()}
    assert graph["components.a"] == {"components.b"}
    assert graph["components.b"] == {"components.a"}
    assert find_cycles(graph) == [["components.a", "components.b", "components.a"]]


def test_a_package_init_that_re_exports_closes_a_cycle_with_an_outside_importer(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    (tmp_path / "foundation" / "__init__.py").write_text("")
    (tmp_path / "foundation" / "settings").mkdir()
    (tmp_path / "foundation" / "settings" / "__init__.py").write_text("from foundation.settings.load import x\n")
    (tmp_path / "foundation" / "settings" / "base.py").write_text("")
    (tmp_path / "foundation" / "settings" / "load.py").write_text("from foundation.quotas import y\n")
    (tmp_path / "foundation" / "quotas.py").write_text("from foundation.settings.base import z\n")
    modules = project_modules(tmp_path)
    graph = {module: imports_of(module, path, modules) for module, path in modules.items()}
    assert graph["foundation.quotas"] == {"foundation.settings.base", "foundation.settings"}
    assert graph["foundation.settings.load"] == {"foundation.quotas"}  # its own package is no edge
    assert find_cycles(graph) == [["foundation.quotas", "foundation.settings", "foundation.settings.load",
                                   "foundation.quotas"]]


@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c", "a"]]),
])
def test_cycles_are_reported_as_paths(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert find_cycles(graph) == expected
