"""Every ComponentResource has the same shape: outputs declared on the class, each with a type and a
one-line docstring, and register_outputs keys in camelCase (the stack outputs' style)."""

import ast
import re
from pathlib import Path

import pytest

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
SOURCES = sorted(Path("components").rglob("*.py"))


def component_classes():
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Attribute) and base.attr == "ComponentResource" for base in node.bases):
                yield path, node


def test_the_components_are_found():
    names = {node.name for _, node in component_classes()}
    assert {"RegionalPlatform", "MeshService", "DnsFailover", "StackBudget"} <= names


@pytest.mark.parametrize("path, node", list(component_classes()), ids=lambda v: getattr(v, "name", str(v)))
def test_outputs_are_declared_on_the_class_with_a_docstring(path, node):
    body = node.body
    declared = [(i, stmt) for i, stmt in enumerate(body) if isinstance(stmt, ast.AnnAssign)]
    assert declared, f"{node.name} declares no outputs on the class"
    for index, stmt in declared:
        following = body[index + 1] if index + 1 < len(body) else None
        assert (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str) and "\n" not in following.value.value.strip()), \
            f"{node.name}.{stmt.target.id} needs a one-line docstring right below it"


@pytest.mark.parametrize("path, node", list(component_classes()), ids=lambda v: getattr(v, "name", str(v)))
def test_register_outputs_uses_camel_case_keys(path, node):
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "register_outputs"]
    assert calls, f"{node.name} never calls register_outputs"
    for call in calls:
        for key in call.args[0].keys:
            assert isinstance(key, ast.Constant) and CAMEL.match(key.value), f"{node.name}: {ast.dump(key)}"
