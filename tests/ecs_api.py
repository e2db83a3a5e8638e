"""The ECS API as botocore models it, for checking payloads the program sends to RegisterTaskDefinition.

botocore's ParamValidator checks structure and types; enums, min/max and a few documented ranges it
does not enforce are checked here too.
"""

from __future__ import annotations

import re

import botocore.session
from botocore.validate import ParamValidator

ECS_MODEL = botocore.session.get_session().get_service_model("ecs")
REGISTER = ECS_MODEL.operation_model("RegisterTaskDefinition")


def register_task_definition_problems(request: dict) -> list[str]:
    """Everything the ECS API would reject in this RegisterTaskDefinition request (empty when valid)."""
    report = ParamValidator().validate(request, REGISTER.input_shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + model_violations(request, REGISTER.input_shape) + documented_violations(
        request.get("containerDefinitions", []))


def model_violations(value, shape, path="request") -> list[str]:
    """Enum members and min/max constraints of the ECS model, which ParamValidator does not enforce."""
    problems = []
    expected = {"structure": dict, "list": list, "map": dict, "string": str, "integer": int, "long": int}
    if shape.type_name in expected and not isinstance(value, expected[shape.type_name]):
        return []  # ParamValidator reports the wrong type
    if shape.type_name == "structure":
        for key, member_value in value.items():
            problems += model_violations(member_value, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list":
        problems += _bounds(len(value), shape, path)
        for i, item in enumerate(value):
            problems += model_violations(item, shape.member, f"{path}[{i}]")
    elif shape.type_name == "map":
        for key, item in value.items():
            problems += model_violations(key, shape.key, f"{path}<key>")
            problems += model_violations(item, shape.value, f"{path}.{key}")
    elif shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}={value!r} not in {shape.enum}")
        problems += _bounds(len(value), shape, path)
    elif shape.type_name in ("integer", "long"):
        problems += _bounds(value, shape, path)
    return problems


def _bounds(measure, shape, path) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and measure < low) or (high is not None and measure > high):
        return [f"{path}: {measure} outside [{low}, {high}]"]
    return []


# Ranges AWS documents for HealthCheck but the botocore model does not carry.
HEALTH_CHECK_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}
# PortMapping.name: up to 64 lowercase letters, digits, '_' and '-', not starting with '-' (API_PortMapping).
PORT_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,63}$")


def documented_violations(definitions) -> list[str]:
    problems = []
    for definition in definitions:
        check = definition.get("healthCheck")
        if check:
            if check["command"][0] not in ("CMD", "CMD-SHELL"):
                problems.append(f"{definition['name']}: health check must start with CMD or CMD-SHELL")
            for key, (low, high) in HEALTH_CHECK_RANGES.items():
                if key in check and not low <= check[key] <= high:
                    problems.append(f"{definition['name']}: healthCheck.{key}={check[key]} outside [{low}, {high}]")
            if check.get("timeout", 5) >= check.get("interval", 30):
                problems.append(f"{definition['name']}: health check timeout must be shorter than its interval")
        for mapping in definition.get("portMappings", []):
            if "name" in mapping and not PORT_NAME.match(mapping["name"]):
                problems.append(f"{definition['name']}: port mapping name {mapping['name']!r}")
        if definition.get("memory", 1 << 30) < 6:
            problems.append(f"{definition['name']}: memory below Docker's 6 MiB minimum")
    return problems


