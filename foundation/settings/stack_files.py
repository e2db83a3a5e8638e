"""Reading config the way Pulumi does: project defaults from Pulumi.yaml, then Pulumi.<stack>.yaml."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from foundation.settings.base import ConfigError, format_validation_error, shortened, shown_value
from foundation.settings.base import Model as _Model
from foundation.settings.catalog import PROJECT_DIR
from foundation.settings.yaml_files import load_yaml


class StackFile(_Model):
    """What a `Pulumi.<stack>.yaml` holds, with Pulumi's secure values replaced by a marker."""

    checks_plain_values = False

    stack: str
    config: dict[str, Any]
    secret_keys: tuple[str, ...]


SECRET_MARKER = "[secret]"
# Keys that may hold a secure value inside an object (`pulumi config set --secret --path ...`), and the
# stand-in the offline preview uses, since it cannot decrypt: each fits the key's rule, so the preview runs
# as the real one would with the decrypted value. `[]` is any list index.
OFFLINE_SECRET_STAND_INS = {
    "alerts.httpsEndpoint": "https://offline-preview.invalid/secret",
    "alerts.emails[]": "secret-alert-{index}@offline-preview.invalid",
    "budget.alertEmails[]": "secret-budget-{index}@offline-preview.invalid",
}
# What Pulumi keeps in a Pulumi.<stack>.yaml: the config and what `pulumi stack init` writes beside it.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


# Config namespaces a stack may set: the project's own keys and the AWS provider's.
PROVIDER_NAMESPACES = ("aws",)


def _check_key(key: object, project: str, file_name: str) -> None:
    if not isinstance(key, str):
        raise ConfigError(f"{file_name}: config key {shown_value(key)} is not allowed: a key is text, "
                          f"'<name>' or '<namespace>:<name>'")
    namespace = key.partition(":")[0] if ":" in key else project
    if namespace not in (project, *PROVIDER_NAMESPACES):
        raise ConfigError(f"{file_name}: config key {shown_value(key)} is not allowed: the namespace must be the "
                          f"project name from Pulumi.yaml ('{project}') or one of {list(PROVIDER_NAMESPACES)}")


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


class _PythonOptions(_Model):
    """Pulumi's options for the Python runtime."""

    toolchain: Literal["pip", "poetry", "uv"] = "pip"
    virtualenv: str | None = None
    typechecker: Literal["mypy", "pyright"] | None = None


class _Runtime(_Model):
    name: Literal["python"]  # the program is Python
    options: _PythonOptions = _PythonOptions()


class _ProjectFile(_Model):
    """The keys of Pulumi.yaml this repository depends on; Pulumi itself checks the others."""

    model_config = _Model.model_config | {"extra": "ignore"}
    runtime: _Runtime
    description: str | None = None


def read_project_defaults(project_dir: Path = PROJECT_DIR) -> tuple[str, dict[str, Any]]:
    """Project name and project-level config from Pulumi.yaml (`default:` or `value:` entries)."""
    project_file = load_yaml(project_dir / "Pulumi.yaml", "the project file") or {}
    runtime = project_file.get("runtime")
    runtime = {"name": runtime} if isinstance(runtime, str) else runtime  # `runtime: python` is the short form
    try:
        _ProjectFile.model_validate(project_file | {"runtime": runtime})
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, "Pulumi.yaml", prefix="")) from None
    project = project_file.get("name")
    if not isinstance(project, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", project):
        raise ConfigError(f"Pulumi.yaml: name = {shown_value(project)} is not allowed: the project name is "
                          "1-100 letters, digits, '_', '.' or '-'")
    config = project_file.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError("Pulumi.yaml: config must be a mapping of keys to values")
    defaults = {}
    for key, entry in config.items():
        _check_key(key, project, "Pulumi.yaml")
        if isinstance(entry, dict) and ("default" in entry or "value" in entry):
            value = entry.get("value", entry.get("default"))
        elif isinstance(entry, dict):
            continue  # a declaration without a value: the stack must set it
        else:
            value = entry
        defaults[_namespaced(key, project)] = value
    return project, defaults


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    """Merge project defaults and `Pulumi.<stack>.yaml` into Pulumi's wire form (strings, JSON objects)."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise ConfigError(f"no stack '{stack}': {path.name} does not exist (stacks: {known})")
    project, merged = read_project_defaults(project_dir)
    stack_file = load_yaml(path, "the stack file") or {}
    unknown = sorted(str(key) for key in stack_file if key not in STACK_FILE_KEYS)
    if unknown:
        raise ConfigError(f"{path.name}: unknown top-level key {shortened(unknown[0])}; a stack file holds "
                          f"{', '.join(STACK_FILE_KEYS)}")
    stack_config = stack_file.get("config") or {}
    if not isinstance(stack_config, dict):
        raise ConfigError(f"{path.name}: config must be a mapping of keys to values")
    secret_keys = []
    for key, value in stack_config.items():
        _check_key(key, project, path.name)
        full_key = _namespaced(key, project)
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = SECRET_MARKER  # cannot be decrypted offline; shown, never used
            secret_keys.append(full_key)
        elif _holds_secure(value):
            value = _with_stand_ins(value, full_key.partition(":")[2], path.name, full_key)
            secret_keys.append(full_key)  # Pulumi marks the whole key secret when a part of it is
        merged[full_key] = value
    from_stack = {_namespaced(key, project) for key in stack_config}
    wire = {k: v if isinstance(v, str) else _json(k, v, path.name if k in from_stack else "Pulumi.yaml")
            for k, v in merged.items()}
    return StackFile(stack=stack, config=wire, secret_keys=tuple(secret_keys))


def _holds_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_holds_secure(v) for v in value.values())
    return isinstance(value, list) and any(_holds_secure(v) for v in value)


def _with_stand_ins(value: Any, path: str, file_name: str, full_key: str, index: int = 0) -> Any:
    """`value` with each secure part replaced by its offline stand-in; a secure part without one is a
    ConfigError naming the key (the preview would otherwise validate the marker and fail obscurely)."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        pattern = re.sub(r"\[\d+\]", "[]", path)
        stand_in = OFFLINE_SECRET_STAND_INS.get(pattern)
        if stand_in is None:
            allowed = ", ".join(OFFLINE_SECRET_STAND_INS)
            raise ConfigError(f"{file_name}: {full_key.partition(':')[0]}:{path} is a secure value the offline "
                              f"preview cannot decrypt and has no stand-in for; keys that may be secret: {allowed}")
        return stand_in.format(index=index)
    if isinstance(value, dict):
        return {k: _with_stand_ins(v, f"{path}.{k}", file_name, full_key) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_stand_ins(v, f"{path}[{i}]", file_name, full_key, i) for i, v in enumerate(value)]
    return value


def _json(key: str, value: Any, file_name: str) -> str:
    """Pulumi passes structured config as JSON; YAML-only types (dates, binary, sets) have no JSON form."""
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{file_name}: {shortened(key)} holds a value with no JSON form "
                          f"({shortened(str(error), 80)}); quote dates and write plain text, numbers, lists and "
                          "mappings") from None


def list_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
