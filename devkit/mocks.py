"""Mock runtime for running the real program offline.

`pulumi.runtime.set_mocks` replaces the engine; this module supplies what the engine and the AWS
provider would: outputs that look like AWS's (ARNs with region and account, ids with the right
prefixes; their shapes are in devkit/aws_state.py) and a record of every registration, including the parent, dependencies and property
dependencies that `Mocks.new_resource` never sees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, reset_options, set_all_config, set_mocks

from components.core.outputs import lift
from devkit.aws_state import ACCOUNT_ID, account_of, aws_like_state
from devkit.sdk_adapter import (
    UNKNOWN,
    MockMonitor,
    deserialize_properties,
    ignore_unretrieved_failures,
    reset_runtime,
    run_program_function,
    settle,
    sync_await,
)

__all__ = ["ACCOUNT_ID", "AwsLikeMocks", "RecordedResource", "Recorder", "RecordingMonitor", "account_of",
           "aws_like_state", "run_program", "to_plain"]


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    provider_region: str | None
    inputs: dict
    outputs: dict
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The record as JSON with a stable order: SDK registrations arrive on executor threads, so
        dependency lists come in whatever order their resources resolved."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "providerRegion": self.provider_region,
            "inputs": to_plain(self.inputs),
            "outputs": to_plain(self.outputs),
            "dependencies": sorted(set(self.dependencies)),
            "propertyDependencies": {prop: sorted(set(urns))
                                     for prop, urns in sorted(self.property_dependencies.items())},
            # Only when set, so that the documents of unprotected stacks keep their shape.
            **({"protect": True} if self.protect else {}),
            **({"ignoreChanges": sorted(self.ignore_changes)} if self.ignore_changes else {}),
        }


def to_plain(value: Any) -> Any:
    """Wire values as JSON: unknowns as the engine's sentinel, resource references as URNs. Keys are
    sorted: a deserialized wire struct has no meaningful key order, and output must not depend on it."""
    # Exact JSON types first: nearly every value of a record is one (the bench times the program with its
    # records written out, and `--json`, costs and the pack each convert every record).
    kind = type(value)
    if kind is str or value is None or kind is bool or kind is float or kind is int:
        return value
    if kind is dict:
        return {k: (v if type(v) is str else to_plain(v)) for k in sorted(value) for v in (value[k],)}
    if kind is list:
        return [v if type(v) is str else to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return sync_await(value.urn.future()) if hasattr(value, "urn") else str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if type(value).__name__ == "Unknown":
        return UNKNOWN
    if isinstance(value, (pulumi.Asset, pulumi.Archive)):
        return _asset_plain(value)
    return str(value)


def _asset_plain(value: Any) -> Any:
    """Assets and archives by content, as the engine records them: a changed handler file is an update,
    and two runs (or two checkouts) of the same code write the same JSON."""
    if isinstance(value, pulumi.AssetArchive):
        return {"assetArchive": {name: _asset_plain(value.assets[name]) for name in sorted(value.assets)}}
    if isinstance(value, (pulumi.FileAsset, pulumi.FileArchive)):
        kind = "fileAsset" if isinstance(value, pulumi.FileAsset) else "fileArchive"
        path = Path(value.path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        return {kind: path.name, "sha256": digest}
    if isinstance(value, pulumi.StringAsset):
        return {"stringAsset": hashlib.sha256(value.text.encode()).hexdigest()}
    return {type(value).__name__: getattr(value, "uri", None)}


class AwsLikeMocks(Mocks):
    """Answers registrations and invokes the way AWS would shape them."""

    def __init__(self, default_region: str, remote_outputs: dict[str, Callable[[dict], dict]] | None = None,
                 computed_unknown: bool = False, account_id: str = ACCOUNT_ID):
        self.default_region = default_region
        self.account_id = account_id
        # As in the first `pulumi preview` of an empty stack: a resource to be created has only its
        # inputs; every computed output (ids, ARNs, DNS names) is unknown.
        self.computed_unknown = computed_unknown
        self.provider_regions: dict[str, str] = {}
        # Outputs of resources whose outputs cannot be derived from inputs (remote components,
        # stack references) are supplied by the caller, keyed by type token.
        self.remote_outputs = remote_outputs or {}
        # Every invoke the program made (token, provider region): what its preview asks AWS for.
        self.invokes: list[tuple[str, str]] = []

    def region_of(self, provider: str | None) -> str:
        if provider:
            return self.provider_regions.get(provider.rsplit("::", 1)[0], self.default_region)
        return self.default_region

    def call(self, args: MockCallArgs):
        region = self.region_of(args.provider)
        self.invokes.append((args.token, region))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": f"arn:aws:iam::{self.account_id}:user/preview",
                    "id": self.account_id, "userId": "AIDAPREVIEW"}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{s}" for s in "abc"]
            return {"names": names, "zoneIds": names, "id": region}, []
        if args.token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            # Write-only master password of a prod global database (components/data/database.py).
            return {"randomPassword": "offline-preview-not-a-password", "id": region}, []
        raise NotImplementedError(f"the offline preview has no mock for the invoke {args.token}")

    def new_resource(self, args: MockResourceArgs):
        if args.typ == "pulumi:providers:aws":
            return f"{args.name}-provider-id", dict(args.inputs)
        if args.typ in self.remote_outputs:
            return f"{args.name}-id", self.remote_outputs[args.typ](args.inputs)
        if self.computed_unknown:
            return "", dict(args.inputs)
        # pulumi-aws 7 resources may name their own region (`region=`), which wins over the provider's.
        region = args.inputs.get("region") or self.region_of(args.provider)
        return aws_like_state(args.typ, args.name, dict(args.inputs), region, self.account_id)



class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus a record of what the engine would have been told."""

    def __init__(self, mocks: AwsLikeMocks):
        super().__init__(mocks)
        self.aws_mocks = mocks
        self.records: list[RecordedResource] = []

    def RegisterResource(self, request):
        if request.type == "pulumi:providers:aws":
            inputs = deserialize_properties(request.object)
            urn = self.make_urn(request.parent, request.type, request.name)
            self.aws_mocks.provider_regions[urn] = inputs.get("region") or self.aws_mocks.default_region
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        inputs = deserialize_properties(request.object, keep_unknowns=True)
        self.records.append(RecordedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            provider=request.provider or None,
            provider_region=(self.aws_mocks.region_of(request.provider)
                             if request.type.startswith("aws:") or request.type == "pulumi:providers:aws" else None),
            inputs=inputs,
            outputs=dict(registration.state) if registration.state else {},
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            ignore_changes=list(request.ignoreChanges),
        ))
        return response


    def ReadResource(self, request):
        """Reads (e.g. a StackReference) are recorded too: they are part of what a stack depends on."""
        response = super().ReadResource(request)
        registration = self.resources[response.urn]
        self.records.append(RecordedResource(
            urn=response.urn, type=request.type, name=request.name, custom=True, parent=request.parent or None,
            provider=request.provider or None,
            provider_region=self.aws_mocks.region_of(request.provider) if request.type.startswith("aws:") else None,
            inputs=deserialize_properties(request.properties, keep_unknowns=True),
            outputs=dict(registration.state) if registration.state else {},
            dependencies=list(request.dependencies), property_dependencies={}))
        return response


class Recorder:
    """What a mock run registered, with small queries that tests and renderers share."""

    def __init__(self, monitor: RecordingMonitor):
        self._monitor = monitor

    @property
    def resources(self) -> list[RecordedResource]:
        return self._monitor.records

    @property
    def invokes(self) -> list[tuple[str, str]]:
        return self._monitor.aws_mocks.invokes

    def of_type(self, typ: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ} named {name!r}, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def to_json(self) -> list[dict]:
        """Every record, ordered by URN (registration order varies from run to run)."""
        return [r.to_json() for r in sorted(self.resources, key=lambda r: r.urn)]


def run_program(program: Callable[[], Any], *, project: str, stack: str, region: str, unknowns: bool = False,
                remote_outputs: dict[str, Callable[[dict], dict]] | None = None,
                config: dict[str, str] | None = None, secret_keys: list[str] | None = None) -> tuple[Recorder, Any]:
    """Run `program` under the mock runtime until every registration has completed.

    Returns the recorder and the program's return value with every Output in it resolved
    (the preview's "stack outputs"); ARNs and the caller identity carry the account `config` allows.
    With `unknowns`, the run is a dry run whose computed outputs are
    unknown, as in the first `pulumi preview` of an empty stack.
    """
    if config is not None:
        set_all_config(config, secret_keys or [])
    mocks = AwsLikeMocks(region, remote_outputs, computed_unknown=unknowns, account_id=account_of(config))
    monitor = RecordingMonitor(mocks)
    # set_mocks makes this run's stack resource only when no root resource is set: an earlier run in this
    # process (a standby's primary) would otherwise parent this run's top-level resources.
    reset_options()
    set_mocks(mocks, project=project, stack=stack, preview=unknowns, monitor=monitor)
    reset_runtime()
    result: dict[str, Any] = {}

    def body():
        value = program()
        if value is None:
            return None
        # One Output of the whole return value resolved (components/core/outputs.py: the SDK's lifting would
        # make thousands at 200 services), awaited here so that the run waits for it, and read again below.
        result["value"] = lift(value)
        return result["value"].future()

    try:
        run_program_function(body)
        # Registrations whose inputs fail late can still be pending when the runtime reports success;
        # their failure belongs to this run, not the next one.
        settle(raise_failure=True)
    except BaseException:
        _drain_after_failure()
        raise
    value = result.get("value")
    resolved = sync_await(value.future(with_unknowns=True)) if value is not None else None
    return Recorder(monitor), resolved


def _drain_after_failure() -> None:
    """A failed program can leave registrations pending in the event loop; finish them quietly so the
    next run in this process (tests, a standby's primary preview) starts clean."""
    settle(raise_failure=False)
    reset_runtime()
    ignore_unretrieved_failures()
