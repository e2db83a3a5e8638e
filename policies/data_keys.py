"""Data stores are encrypted with customer managed keys the program owns, whatever the key reference looks like.

``data-keys-customer-managed`` (stack policy): every KMS key reference of a queue, a DynamoDB table (and its
replicas), a table replica or an RDS cluster/instance resolves to a customer managed key of the stack: an
``aws:kms`` key, replica key or external key, or an alias of the stack (AWS reserves ``alias/aws/*``, so a
program's alias names its own key), matched by property dependency or by the key's ARN, id or alias. A key
ARN that resolves to nothing in the stack may be an AWS managed key (``aws/sqs``, ``aws/dynamodb`` have
ordinary key ARNs), so it is refused unless the ``externalKeys`` knob names it with the reason the key is
customer managed elsewhere (another stack, another account). AWS managed aliases are refused by
``sqs-queue-encryption`` and ``dynamodb-table-kms`` already.

Unknown values: an unknown reference that depends on a key of the stack is that key; one that does not is
deferred to ``pulumi up``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .data_stores import QUEUE, TABLE, TABLE_REPLICA, is_aws_managed_key
from .framework import Finding, PolicySpec, ResourceView, deferred
from .values import as_list, get_path, is_known_text, is_unknown

KEY_TYPES = frozenset({"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey",
                       "aws:kms/replicaExternalKey:ReplicaExternalKey"})
ALIAS = "aws:kms/alias:Alias"


def _references(resource: ResourceView) -> Iterable[tuple[str, str, Any]]:
    """(label, top-level property, value) of every key reference of a data store."""
    props = resource.props
    if resource.type == QUEUE:
        yield "kmsMasterKeyId", "kmsMasterKeyId", props.get("kmsMasterKeyId")
    elif resource.type == TABLE:
        yield "serverSideEncryption.kmsKeyArn", "serverSideEncryption", get_path(props, "serverSideEncryption",
                                                                                  "kmsKeyArn")
        replicas = props.get("replicas")
        for index, replica in enumerate(as_list(replicas) if not is_unknown(replicas) else []):
            yield f"replicas[{index}].kmsKeyArn", "replicas", get_path(replica, "kmsKeyArn")
    elif resource.type == TABLE_REPLICA:
        yield "kmsKeyArn", "kmsKeyArn", props.get("kmsKeyArn")
    elif resource.type in ("aws:rds/cluster:Cluster", "aws:rds/instance:Instance"):
        yield "kmsKeyId", "kmsKeyId", props.get("kmsKeyId")


def _key_names(resources: list[ResourceView]) -> set[str]:
    names: set[str] = set()
    for resource in resources:
        if resource.type in KEY_TYPES:
            keys = ("arn", "id", "keyId")
        elif resource.type == ALIAS:
            keys = ("arn", "name", "id")
        else:
            continue
        names |= {resource.props[k] for k in keys if is_known_text(resource.props.get(k))}
    return names


def resolve_key(resource: ResourceView, prop: str, value: Any, resources: list[ResourceView]) -> ResourceView | str | None:
    """The key of the stack that ``resource.prop`` (value ``value``) references: a key view, the unknown sentinel
    when the value is unknown and depends on no key, or None when it names no key of the stack. An alias of the
    stack resolves to its target key when that is known, else to the alias itself."""
    for dep in resource.property_dependencies.get(prop, []):
        if dep.type in KEY_TYPES:
            return dep
        if dep.type == ALIAS:
            return _alias_target(dep, resources) or dep
    if is_unknown(value):
        return str(value)
    if not is_known_text(value):
        return None
    text = str(value)
    for candidate in resources:
        if candidate.type in KEY_TYPES and text in {candidate.props.get(k) for k in ("arn", "id", "keyId")}:
            return candidate
        if candidate.type in KEY_TYPES and is_known_text(candidate.props.get("id")) \
                and text.rsplit("/", 1)[-1] == candidate.props["id"]:
            return candidate
        if candidate.type == ALIAS and text in {candidate.props.get(k) for k in ("arn", "name", "id")}:
            return _alias_target(candidate, resources) or candidate
    return None


def _alias_target(alias: ResourceView, resources: list[ResourceView]) -> ResourceView | None:
    found = resolve_key(alias, "targetKeyId", alias.props.get("targetKeyId"), [r for r in resources if r.type in KEY_TYPES])
    return found if isinstance(found, ResourceView) else None


def key_policies(key: ResourceView, resources: list[ResourceView]) -> list[Any]:
    """The key policy documents of a key: its ``policy`` and any ``aws:kms/keyPolicy`` naming it."""
    documents = [key.props.get("policy")] if key.props.get("policy") is not None else []
    for other in resources:
        if other.type == "aws:kms/keyPolicy:KeyPolicy" and resolve_key(other, "keyId", other.props.get("keyId"),
                                                                         [key]) is key:
            documents.append(other.props.get("policy"))
    return documents


def check_customer_managed_keys(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    external = [str(entry.get("key", "")) for entry in config["externalKeys"] if isinstance(entry, Mapping)]
    names: set[str] | None = None
    findings: list[Finding] = []
    for resource in resources:
        for label, prop, value in _references(resource):
            if value is None or (isinstance(value, str) and not value.strip()) or is_aws_managed_key(value):
                continue  # missing or AWS managed aliases are the resource policies' findings
            if any(dep.type in KEY_TYPES or dep.type == ALIAS for dep in resource.property_dependencies.get(prop, [])):
                continue
            if is_unknown(value):
                findings.append(deferred(f"{label} is unknown during preview and depends on no key of the stack",
                                         urn=resource.urn))
                continue
            if names is None:
                names = _key_names(resources)
            text = str(value)
            if text in names or text.rsplit("/", 1)[-1] in names or any(fnmatch.fnmatchcase(text, g) for g in external):
                continue
            findings.append(Finding(
                f"{label} is {text!r}, which is no key of this stack, so it may be an AWS managed key (aws/sqs, "
                "aws/dynamodb and aws/rds have ordinary key ARNs) whose policy the account cannot restrict. Use the "
                "platform's customer managed key, or name this key in the policy's externalKeys knob with the reason "
                "it is customer managed.", urn=resource.urn))
    return findings


DATA_KEYS_CUSTOMER_MANAGED = PolicySpec(
    name="data-keys-customer-managed",
    description="Queues, tables, table replicas and RDS databases are encrypted with a customer managed key of the "
                "stack (or one named in externalKeys), not an AWS managed key under any spelling.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Reference the platform's aws.kms.Key (its ARN) in the data store's key property.",
    unknowns="An unknown key reference depending on a key of the stack is that key; otherwise deferred to "
             "`pulumi up`.",
    check=check_customer_managed_keys,
    stack=True,
    config={
        "externalKeys": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "reason": {"type": "string",
                                                                                               "minLength": 20}},
                      "required": ["key", "reason"]},
            "default": [],
            "description": "Customer managed keys created outside the stack (ARN globs), each with its reason.",
        },
    },
)
