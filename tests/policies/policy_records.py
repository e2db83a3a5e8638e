"""A tiny builder for the offline preview's ``--json`` records the harness replays.

    stack = StackRecords()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"}, outputs={"id": "vpc-1"})
    stack.add("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcId": UNKNOWN, ...}, deps={"vpcId": [vpc]})
"""

from __future__ import annotations

import json
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROJECT = "microservices-foundation"
COST_TAGS = {"environment": "staging", "cost-center": "cc-platform", "owner": "platform-team"}


class StackRecords:
    def __init__(self, stack: str = "test", region: str = "eu-central-1",
                 default_tags: dict[str, str] | None = None, tags_as_json: bool = True) -> None:
        self.stack = stack
        self.records: list[dict[str, Any]] = []
        self.provider = self.add_provider("aws-main", region, COST_TAGS if default_tags is None else default_tags,
                                          tags_as_json)

    def urn(self, qualified_type: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{PROJECT}::{qualified_type}::{name}"

    def add_provider(self, name: str, region: str, default_tags: dict[str, str] | None,
                     tags_as_json: bool = True) -> dict[str, Any]:
        inputs: dict[str, Any] = {"region": region}
        if default_tags is not None:
            wrapped = {"tags": default_tags}
            inputs["defaultTags"] = json.dumps(wrapped) if tags_as_json else wrapped
        record = self._record("pulumi:providers:aws", name, inputs, {}, None, None, {}, custom=True)
        record["provider"] = None
        record["providerRegion"] = region
        return record

    def add(self, type_: str, name: str, inputs: dict[str, Any] | None = None, *,
            outputs: dict[str, Any] | None = None, parent: dict[str, Any] | None = None,
            deps: dict[str, list[dict[str, Any]]] | None = None, provider: dict[str, Any] | None = None,
            custom: bool = True) -> dict[str, Any]:
        return self._record(type_, name, inputs or {}, outputs, parent, provider or self.provider, deps or {},
                            custom=custom)

    def component(self, type_: str, name: str, *, parent: dict[str, Any] | None = None,
                  outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        record = self._record(type_, name, {}, outputs or {}, parent, None, {}, custom=False)
        record["provider"] = None
        record["providerRegion"] = None
        return record

    def _record(self, type_, name, inputs, outputs, parent, provider, deps, *, custom) -> dict[str, Any]:
        qualified = type_ if parent is None else f"{parent['urn'].split('::')[2]}${type_}"
        property_dependencies = {prop: [d["urn"] for d in targets] for prop, targets in deps.items()}
        record = {
            "urn": self.urn(qualified, name),
            "type": type_,
            "name": name,
            "custom": custom,
            "parent": parent["urn"] if parent else None,
            "provider": f"{provider['urn']}::{provider['name']}-id" if provider else None,
            "providerRegion": provider["providerRegion"] if provider else None,
            "inputs": inputs,
            "outputs": dict(inputs, **outputs) if outputs is not None else dict(inputs),
            "dependencies": sorted({u for urns in property_dependencies.values() for u in urns}),
            "propertyDependencies": property_dependencies,
        }
        self.records.append(record)
        return record


def of_policy(diagnostics: list, policy: str) -> list:
    """The diagnostics one policy reported."""
    return [d for d in diagnostics if d.policy_name == policy]
