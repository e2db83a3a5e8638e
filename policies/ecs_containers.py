"""Container definitions are hardened: read-only root file system and non-root user (credentials in
environments: environment_secrets.py).

``containerDefinitions`` of ``aws:ecs/taskDefinition:TaskDefinition`` is a JSON string of ECS
API container definitions (camelCase: ``readonlyRootFilesystem``, ``user``, ``environment``).

Unknown values: during preview the whole JSON string is usually unknown (it embeds an image URI
or log group name computed by another resource); such a task definition is deferred to
``pulumi up`` (reported not-applicable). Inside a known document, an unknown ``user`` is deferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import CannotJudge, Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import DocumentError, as_list, is_unknown, parse_json_document, shown

TASK_DEFINITION = frozenset({"aws:ecs/taskDefinition:TaskDefinition"})
LAMBDA_FUNCTION = "aws:lambda/function:Function"
ROOT_USERS = {"root", "0"}


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
