"""Container definitions are hardened: read-only root file system, non-root user, no secrets in
plain environment variables.

``containerDefinitions`` of ``aws:ecs/taskDefinition:TaskDefinition`` is a JSON string of ECS
API container definitions (camelCase: ``readonlyRootFilesystem``, ``user``, ``environment``).
``container-env-no-secrets`` also reads a Lambda function's ``environment.variables``. A credential
is found by its value whatever the variable is called (connection strings with a password, AWS
access key ids, private keys, bearer/basic tokens, JWTs, vendor tokens: ``secretValuePatterns``) and
by the variable's name (``secretNamePatterns``).

Unknown values: during preview the whole JSON string is usually unknown (it embeds an image URI
or log group name computed by another resource); such a task definition is deferred to
``pulumi up`` (reported not-applicable). Inside a known document, an unknown ``user`` is deferred,
and an unknown environment value is judged by its name and otherwise deferred (its value cannot be
checked for a credential yet).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import CannotJudge, Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import DocumentError, as_list, get_path, is_unknown, parse_json_document, shown

TASK_DEFINITION = frozenset({"aws:ecs/taskDefinition:TaskDefinition"})
LAMBDA_FUNCTION = "aws:lambda/function:Function"
ROOT_USERS = {"root", "0"}


# Values that are credentials whatever the variable is called.
SECRET_VALUE_PATTERNS = [
    # scheme://user:password@host (user may be empty: redis://:password@host); a password that starts like a template (${X}, %s, {x}, <x>) is not one
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?![$%{<])[^/\s@]+@",
    # key=value connection strings (ADO.NET, JDBC query strings): Password=..., pwd=...
    r"(?i)(?:^|[;&?\s])(?:password|passwd|pwd)\s*=\s*(?![$%{<;&\s])[^;&\s]+",
    # JSON configuration passed as one value: {"password": "..."}, {"client_secret": "..."}
    r"(?i)[\"'](?:password|passwd|pwd|secret|client_secret|api_?key|access_?token)[\"']\s*:\s*[\"'](?![$%{<])[^\"']{4,}[\"']",
    r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/-]{16,}=*",
    r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    r"\b[rs]k_live_[A-Za-z0-9]{16,}",
    r"\bAIza[0-9A-Za-z_-]{35}",
]


def container_definitions(resource: ResourceView) -> list[Mapping[str, Any]]:
    raw = resource.props.get("containerDefinitions")
    if raw is None:
        return []
    try:
        parsed = parse_json_document(raw)
    except DocumentError as error:
        raise CannotJudge("containerDefinitions", f"cannot be parsed ({error})") from None
    if is_unknown(parsed):
        raise NotJudged("containerDefinitions is unknown during preview; deferred to `pulumi up`")
    return [c for c in as_list(parsed) if isinstance(c, Mapping)]


def container_label(container: Mapping[str, Any], index: int) -> str:
    name = container.get("name")
    return f"container '{name}'" if isinstance(name, str) and name else f"container #{index}"


def check_read_only_root(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for index, container in enumerate(container_definitions(resource)):
        if container.get("readonlyRootFilesystem") is not True:
            findings.append(Finding(
                f"{container_label(container, index)} has readonlyRootFilesystem "
                f"{shown(container.get('readonlyRootFilesystem'))}; a writable root file system lets an attacker persist "
                "tools. Set \"readonlyRootFilesystem\": true and mount a volume (or tmpfs-like bind mount) for "
                "paths the app must write."))
    return findings


def _is_root_user(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ROOT_USERS or (name.isdigit() and int(name) == 0)  # "00" is UID 0 too


def check_non_root_user(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    findings = []
    for index, container in enumerate(container_definitions(resource)):
        user = container.get("user")
        if is_unknown(user):
            findings.append(deferred(f"{container_label(container, index)} has a user unknown during preview"))
            continue
        if not isinstance(user, str) or not user.strip():
            findings.append(Finding(
                f"{container_label(container, index)} sets no user, so it runs as the image's default user "
                "(often root). Set \"user\" to a non-root UID, e.g. \"1000:1000\"."))
        elif _is_root_user(user):
            findings.append(Finding(
                f"{container_label(container, index)} runs as user '{user}' (root). Set \"user\" to a non-root UID, "
                "e.g. \"1000:1000\"."))
    return findings


def _environment(resource: ResourceView) -> list[tuple[str, Any, Any]]:
    """(owner, name, value) of every plain environment variable: containers' ``environment`` lists, a
    Lambda function's ``environment.variables`` map."""
    if resource.type == LAMBDA_FUNCTION:
        variables = get_path(resource.props, "environment", "variables")
        if is_unknown(variables):
            raise NotJudged("environment.variables is unknown during preview; deferred to `pulumi up`")
        return [("the function", name, value) for name, value in (variables or {}).items()]
    return [(container_label(container, index), variable.get("name"), variable.get("value"))
            for index, container in enumerate(container_definitions(resource))
            for variable in as_list(container.get("environment")) if isinstance(variable, Mapping)]


def _only_references(upper_name: str, value: Any, allowed_name_patterns: list[str]) -> bool:
    """Whether an allowed name (``*_ARN``, ``*_SECRET_ID`` ...) exempts the variable: a name that says it
    holds an ARN must hold one, so ``DB_PASSWORD_ARN=hunter2`` is not exempt."""
    if not any(fnmatch.fnmatchcase(upper_name, p) for p in allowed_name_patterns):
        return False
    if upper_name.endswith("_ARN") and isinstance(value, str) and not is_unknown(value):
        return value.startswith("arn:") or not value.strip()
    return True


def check_environment_secrets(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    name_patterns = [str(p).upper() for p in config["secretNamePatterns"]]
    allowed_name_patterns = [str(p).upper() for p in config["allowedNamePatterns"]]
    value_patterns = [re.compile(str(p)) for p in config["secretValuePatterns"]]
    findings = []
    for owner, name, value in _environment(resource):
        if not isinstance(name, str):
            continue
        upper = name.upper()
        known_value = isinstance(value, str) and not is_unknown(value)
        reason = None
        value_pattern = next((p for p in value_patterns if known_value and p.search(value)), None)
        if value_pattern is not None:
            reason = f"its value looks like a credential (matches /{value_pattern.pattern}/)"
        elif any(fnmatch.fnmatchcase(upper, p) for p in name_patterns) \
                and not _only_references(upper, value, allowed_name_patterns) \
                and not (known_value and (value.startswith("arn:") or not value.strip())):
            reason = "its name says it holds a secret"
        elif is_unknown(value):
            findings.append(deferred(f"{owner}: the value of environment variable '{name}' is unknown during "
                                     "preview, so it cannot be checked for a credential"))
        if reason:
            findings.append(Finding(
                f"{owner} passes environment variable '{name}' in plain text; "
                f"{reason}. Plain environment values are visible to anyone who can describe the task definition or "
                "function. Move it to Secrets Manager or SSM and reference it (\"secrets\": [{\"name\": ..., "
                "\"valueFrom\": <ARN>}] for ECS)."))
    return findings


CONTAINER_READ_ONLY_ROOT = PolicySpec(
    name="container-read-only-root-fs",
    description="Every container of a task definition has a read-only root file system.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set \"readonlyRootFilesystem\": true in each container definition; mount volumes for writable paths.",
    unknowns="Unknown containerDefinitions are deferred to `pulumi up`; an unknown readonlyRootFilesystem is "
             "reported (a literal in any sane program).",
    check=check_read_only_root,
    resource_types=TASK_DEFINITION,
)

CONTAINER_NON_ROOT_USER = PolicySpec(
    name="container-non-root-user",
    description="Every container of a task definition runs as an explicit non-root user.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Set \"user\": \"<uid>:<gid>\" (not root/0) in each container definition.",
    unknowns="Unknown containerDefinitions, and an unknown user inside known ones, are deferred to `pulumi up`.",
    check=check_non_root_user,
    resource_types=TASK_DEFINITION,
)

CONTAINER_ENV_NO_SECRETS = PolicySpec(
    name="container-env-no-secrets",
    description="Container and Lambda environment variables carry no credentials, judged by value and by name; "
                "secrets come from Secrets Manager/SSM.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Move the value to Secrets Manager or SSM Parameter Store and reference it in \"secrets\" "
                "with valueFrom.",
    unknowns="Unknown containerDefinitions/variables are deferred to `pulumi up`; an unknown value is judged by its "
             "variable's name and otherwise deferred.",
    check=check_environment_secrets,
    resource_types=TASK_DEFINITION | {LAMBDA_FUNCTION},
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
            "default": SECRET_VALUE_PATTERNS,
            "description": "Regular expressions of values that are credentials whatever the name "
                           "(connection strings with a password, AWS access key ids, private keys, bearer/basic "
                           "tokens, JWTs, GitHub/Slack/Stripe/Google keys).",
        },
    },
)
