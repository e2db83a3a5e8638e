"""Container definitions are hardened: read-only root file system, non-root user, no secrets in
plain environment variables.

``containerDefinitions`` of ``aws:ecs/taskDefinition:TaskDefinition`` is a JSON string of ECS
API container definitions (camelCase: ``readonlyRootFilesystem``, ``user``, ``environment``).

Unknown values: during preview the whole JSON string is usually unknown (it embeds an image URI
or log group name computed by another resource); such a task definition is not judged at
preview (reported not-applicable) and is judged at update. Inside a known document, an unknown
environment value is still judged by its name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, NotJudged, PolicySpec, ResourceView
from .values import DocumentError, as_list, is_unknown, parse_json_document

TASK_DEFINITION = frozenset({"aws:ecs/taskDefinition:TaskDefinition"})
ROOT_USERS = {"root", "0"}


def container_definitions(resource: ResourceView) -> list[Mapping[str, Any]]:
    raw = resource.props.get("containerDefinitions")
    if raw is None:
        return []
    try:
        parsed = parse_json_document(raw)
    except DocumentError as error:
        raise NotJudged(f"containerDefinitions cannot be parsed ({error})") from None
    if is_unknown(parsed):
        raise NotJudged("containerDefinitions is unknown during preview; judged at update")
    return [c for c in as_list(parsed) if isinstance(c, Mapping)]


def _container_name(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return f"container '{name}'" if isinstance(name, str) and name else f"container #{index}"


def check_read_only_root(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for index, container in enumerate(container_definitions(resource)):
        if container.get("readonlyRootFilesystem") is not True:
            findings.append(Finding(
                f"{_container_name(container, index)} has readonlyRootFilesystem "
                f"{container.get('readonlyRootFilesystem')!r}; a writable root file system lets an attacker persist "
                "tools. Set \"readonlyRootFilesystem\": true and mount a volume (or tmpfs-like bind mount) for "
                "paths the app must write."))
    return findings


def _is_root_user(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ROOT_USERS


def check_non_root_user(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for index, container in enumerate(container_definitions(resource)):
        user = container.get("user")
        if is_unknown(user):
            continue
        if not isinstance(user, str) or not user.strip():
            findings.append(Finding(
                f"{_container_name(container, index)} sets no user, so it runs as the image's default user "
                "(often root). Set \"user\" to a non-root UID, e.g. \"1000:1000\"."))
        elif _is_root_user(user):
            findings.append(Finding(
                f"{_container_name(container, index)} runs as user '{user}' (root). Set \"user\" to a non-root UID, "
                "e.g. \"1000:1000\"."))
    return findings


def check_environment_secrets(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    name_patterns = [str(p).upper() for p in config["secretNamePatterns"]]
    allowed_name_patterns = [str(p).upper() for p in config["allowedNamePatterns"]]
    value_patterns = [re.compile(str(p)) for p in config["secretValuePatterns"]]
    findings = []
    for index, container in enumerate(container_definitions(resource)):
        for variable in as_list(container.get("environment")):
            if not isinstance(variable, Mapping):
                continue
            name, value = variable.get("name"), variable.get("value")
            if not isinstance(name, str):
                continue
            upper = name.upper()
            known_value = isinstance(value, str) and not is_unknown(value)
            reason = None
            value_pattern = next((p for p in value_patterns if known_value and p.search(value)), None)
            if value_pattern is not None:
                reason = f"its value looks like a credential (matches /{value_pattern.pattern}/)"
            elif any(fnmatch.fnmatchcase(upper, p) for p in name_patterns) \
                    and not any(fnmatch.fnmatchcase(upper, p) for p in allowed_name_patterns) \
                    and not (known_value and (value.startswith("arn:") or not value.strip())):
                reason = "its name says it holds a secret"
            if reason:
                findings.append(Finding(
                    f"{_container_name(container, index)} passes environment variable '{name}' in plain text; "
                    f"{reason}. Plain environment values are visible in the task definition to anyone with "
                    "ecs:DescribeTaskDefinition. Move it to \"secrets\": [{\"name\": ..., \"valueFrom\": "
                    "<Secrets Manager or SSM parameter ARN>}]."))
    return findings


CONTAINER_READ_ONLY_ROOT = PolicySpec(
    name="container-read-only-root-fs",
    description="Every container of a task definition has a read-only root file system.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set \"readonlyRootFilesystem\": true in each container definition; mount volumes for writable paths.",
    unknowns="Unknown containerDefinitions are judged at update (not-applicable at preview).",
    check=check_read_only_root,
    resource_types=TASK_DEFINITION,
)

CONTAINER_NON_ROOT_USER = PolicySpec(
    name="container-non-root-user",
    description="Every container of a task definition runs as an explicit non-root user.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Set \"user\": \"<uid>:<gid>\" (not root/0) in each container definition.",
    unknowns="Unknown containerDefinitions are judged at update (not-applicable at preview); an unknown user "
             "value inside a known document is accepted.",
    check=check_non_root_user,
    resource_types=TASK_DEFINITION,
)

CONTAINER_ENV_NO_SECRETS = PolicySpec(
    name="container-env-no-secrets",
    description="Container environment variables carry no secrets; secrets come from Secrets Manager/SSM via "
                "\"secrets\".",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Move the value to Secrets Manager or SSM Parameter Store and reference it in \"secrets\" "
                "with valueFrom.",
    unknowns="Unknown containerDefinitions are judged at update (not-applicable at preview); unknown values are "
             "judged by their variable name.",
    check=check_environment_secrets,
    resource_types=TASK_DEFINITION,
    config={
        "secretNamePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": ["*PASSWORD*", "*PASSWD*", "*SECRET*", "*TOKEN*", "*API_KEY*", "*APIKEY*",
                        "*PRIVATE_KEY*", "*CREDENTIAL*"],
            "description": "Case-insensitive globs of variable names that hold secrets.",
        },
        "allowedNamePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": ["*_ARN", "*_SECRET_ID", "*_SECRET_NAME", "*TOKEN_URL", "*TOKEN_ENDPOINT"],
            "description": "Case-insensitive globs of names that only reference a secret and are allowed.",
        },
        "secretValuePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": [r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
                        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
                        r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
                        r"\bxox[abprs]-[A-Za-z0-9-]{10,}"],
            "description": "Regular expressions of values that are credentials whatever the name "
                           "(AWS access key ids, PEM private keys, GitHub and Slack tokens).",
        },
    },
)
