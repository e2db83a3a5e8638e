"""Turn the permission table and a stack's registered resources into concrete IAM requests: action,
resource ARN, region and the condition keys AWS would put in the request context."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devkit.mocks import RecordedResource
from devkit.permissions import sar
from devkit.permissions.calls import OPERATIONS, Call, Operation, TypeRows
from devkit.permissions.table_platform import PLATFORM_TABLE
from devkit.permissions.table_services import SERVICES_TABLE

TABLE: dict[str, TypeRows] = {rows.type: rows for rows in (*PLATFORM_TABLE, *SERVICES_TABLE)}
# Services whose API takes every request in us-east-1 (`aws:RequestedRegion` is us-east-1 for them).
GLOBAL_SERVICES = {"iam": "us-east-1", "route53": "us-east-1", "budgets": "us-east-1", "ce": "us-east-1",
                   "organizations": "us-east-1", "billing": "us-east-1", "arc-region-switch": "us-east-1"}
# Resource types with no AWS calls of their own (the engine's, or Pulumi's).
NOT_AWS = ("pulumi:providers:", "pulumi:pulumi:StackReference")


@dataclass(frozen=True)
class Required:
    """One IAM request a deploy makes for one registered resource."""

    stack: str
    resource: str  # the resource's name (URN suffix)
    type: str
    operation: Operation
    action: str
    arn: str  # what the request is authorized on ("*" without resource-level permission)
    region: str
    context: tuple[tuple[str, tuple[str, ...]], ...]
    note: str
    key_policy: str | None = None  # the policy of the customer managed key the request uses, when registered

    @property
    def context_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.context)


@dataclass(frozen=True)
class Undecidable:
    stack: str
    resource: str
    operation: str
    action: str
    reason: str


class Records:
    """Every registered resource of the stacks, found by any value another resource may hold for it."""

    def __init__(self, records: Iterable[RecordedResource]) -> None:
        self.all = [r for r in records if r.custom]
        self.by_value: dict[str, RecordedResource] = {}
        for record in self.all:
            for value in (record.outputs.get("url"), record.outputs.get("name"), record.inputs.get("name"),
                          record.outputs.get("id"), record.outputs.get("keyId"), record.outputs.get("arn")):
                if isinstance(value, str) and value:
                    self.by_value[value] = record  # later (more specific) keys win

    def find(self, value: str) -> RecordedResource | None:
        return self.by_value.get(value)


def values_at(inputs: Mapping[str, Any], path: str) -> list[Any]:
    """Values at a dotted path; `[]` steps into every element of a list."""
    current: list[Any] = [inputs]
    for part in path.split("."):
        step: list[Any] = []
        name, many = part.removesuffix("[]"), part.endswith("[]")
        for value in current:
            if isinstance(value, Mapping) and name in value:
                found = value[name]
                step += list(found) if many and isinstance(found, list) else [found]
        current = step
    return [v for v in current if v not in (None, "", [], {}, False)]


def tags_of(record: RecordedResource, providers: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """What AWS holds as the resource's tags: the provider's default tags under the resource's own."""
    rows = TABLE.get(record.type)
    if rows is None or not rows.tagged:
        return {}
    provider = (record.provider or "").rsplit("::", 1)[0]
    return {**providers.get(provider, {}), **(record.inputs.get("tags") or {})}


def provider_tags(records: Iterable[RecordedResource]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for record in records:
        if record.type == "pulumi:providers:aws":
            raw = record.inputs.get("defaultTags") or "{}"
            found[record.urn] = dict((json.loads(raw) if isinstance(raw, str) else raw).get("tags", {}))
    return found


def region_of(record: RecordedResource) -> str:
    return str(record.inputs.get("region") or record.provider_region or "")


def self_arn(record: RecordedResource, account: str) -> str:
    rows = TABLE[record.type]
    if rows.self_arn is None:
        return str(record.outputs.get("arn") or "")
    values = {**{k: v for k, v in record.outputs.items() if isinstance(v, str)},
              **{k: v for k, v in record.inputs.items() if isinstance(v, str)},
              "account": account, "region": region_of(record)}
    return rows.self_arn.format(**values)


_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[^:]+:([^:]*):")
_TAG_PREFIX = ("aws:resourcetag/", "aws:requesttag/")


def _with_region(arn: str, region: str) -> str:
    parts = arn.split(":", 5)
    return ":".join([*parts[:3], region, *parts[4:]]) if len(parts) == 6 else arn


@dataclass(frozen=True)
class Target:
    arn: str
    region: str
    tags: Mapping[str, str] | None  # None: the resource does not exist yet (create of itself)
    record: RecordedResource | None


class Expander:
    """Builds the Required requests of one stack."""

    def __init__(self, stack: str, records: Sequence[RecordedResource], everything: Records, account: str) -> None:
        self.stack = stack
        self.records = [r for r in records if r.custom and r.type.startswith("aws:")]
        self.everything = everything
        self.account = account
        self.providers = provider_tags([*records, *everything.all])
        self.undecidable: list[Undecidable] = []

    def requests(self) -> Iterator[Required]:
        for record in self.records:
            rows = TABLE.get(record.type)
            if rows is None:
                raise LookupError(f"the permission table has no rows for {record.type} ({record.name})")
            for operation in OPERATIONS:
                calls = list(rows.calls(operation))
                if operation in ("create", "update"):
                    calls += rows.read  # the provider reads back what it wrote
                for call in calls:
                    yield from self._expand(record, operation, call)

    def _targets(self, record: RecordedResource, operation: Operation, call: Call) -> list[Target]:
        region = region_of(record)
        target = call.target
        if target == "self" and TABLE[record.type].self_arn and re.fullmatch(r"\{[^}]+\}", TABLE[record.type].self_arn or ""):
            target = "ref:" + (TABLE[record.type].self_arn or "")[1:-1]
        if target == "self":
            exists = operation != "create"
            tags = tags_of(record, self.providers) if exists else None
            return [Target(self_arn(record, self.account), region, tags, record)]
        if target == "*":
            return [Target("*", region, None, None)]
        if target.startswith("arn:"):
            values = {k: v for k, v in {**record.outputs, **record.inputs}.items() if isinstance(v, str)}
            arn = target[4:].format(**{**values, "account": self.account, "region": region})
            return [Target(arn, region, None, None)]
        path = target[4:]
        first, _, second = path.partition(">")
        found: list[Target] = []
        for value in values_at(record.inputs, first):
            referenced = self.everything.find(str(value))
            if second:
                if referenced is None:
                    continue
                for inner in values_at(referenced.inputs, second):
                    found.append(self._ref_target(str(inner), region))
                continue
            found.append(self._ref_target(str(value), region, referenced))
        return found

    def _ref_target(self, value: str, region: str, referenced: RecordedResource | None = None) -> Target:
        referenced = referenced or self.everything.find(value)
        if referenced is not None and referenced.type in TABLE:
            arn = self_arn(referenced, self.account)
            return Target(arn, region_of(referenced) or region, tags_of(referenced, self.providers), referenced)
        match = _ARN_REGION.match(value)
        return Target(value, (match.group(1) if match else "") or region, {}, None)

    def _expand(self, record: RecordedResource, operation: Operation, call: Call) -> Iterator[Required]:
        if call.when and not values_at(record.inputs, call.when):
            return
        targets = self._targets(record, operation, call)
        if call.region:
            regions = [str(v) for v in values_at(record.inputs, call.region.removeprefix("input:"))]
            targets = [Target(_with_region(t.arn, r), r, t.tags, t.record) for t in targets for r in regions]
        for target in targets:
            for action in call.actions:
                yield from self._request(record, operation, call, action, target)

    def _request(self, record: RecordedResource, operation: Operation, call: Call, action: str,
                 target: Target) -> Iterator[Required]:
        if not sar.exists(action):
            raise LookupError(f"{action} (table row {record.type} {operation}) is not an IAM action")
        service = action.split(":")[0]
        region = GLOBAL_SERVICES.get(service, target.region)
        arn = target.arn if sar.resource_level(action) else "*"
        if arn != "*" and sar.entry_for(action, arn) is None:
            if sar.action_level(action) is not None:
                arn = "*"  # the action is also authorized without a resource (e.g. a create)
            else:
                self.undecidable.append(Undecidable(self.stack, record.name, operation, action,
                                                    f"{target.arn or '(no ARN)'} is none of the action's resource types"))
                return
        action_entry = sar.action_level(action)
        keys = sar.condition_keys(action, arn) if arn != "*" else (
            action_entry.condition_keys if action_entry is not None else frozenset())
        context: dict[str, tuple[str, ...]] = {"aws:requestedregion": (region,)}
        lowered = {k.lower() for k in keys}
        if target.tags is not None and "aws:resourcetag/${tagkey}" in lowered:
            context.update({f"aws:resourcetag/{k.lower()}": (v,) for k, v in target.tags.items()})
        if target.record is record and operation == "create" and "aws:requesttag/${tagkey}" in lowered:
            tags = tags_of(record, self.providers)
            context.update({f"aws:requesttag/{k.lower()}": (v,) for k, v in tags.items()})
            if tags:
                context["aws:tagkeys"] = tuple(sorted(tags))
        if "iam:permissionsboundary" in lowered and target.record is not None:
            boundary = target.record.inputs.get("permissionsBoundary")
            if boundary:
                context["iam:permissionsboundary"] = (str(boundary),)
        context.update({k.lower(): (v.format(region=target.region),) for k, v in call.context.items()})
        key_policy = None
        if target.record is not None and target.record.type == "aws:kms/key:Key" and service == "kms" \
                and action != "kms:CreateKey":  # the key and its policy do not exist before CreateKey
            key_policy = str(target.record.inputs.get("policy") or "") or None
        yield Required(self.stack, record.name, record.type, operation, action, arn, region,
                       tuple(sorted(context.items())), call.note, key_policy)
