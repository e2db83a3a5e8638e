"""Mock runtime for running the real program offline.

`pulumi.runtime.set_mocks` replaces the engine; this module supplies what the engine and the AWS
provider would: outputs that look like AWS's (ARNs with region and account, ids with the right
prefixes) and a record of every registration, including the parent, dependencies and property
dependencies that `Mocks.new_resource` never sees.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, set_all_config, set_mocks

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

# The account a run works in when its config names none (`aws:allowedAccountIds` absent), as AWS's
# documentation examples do. A stack that names its account gets that one (see account_of).
ACCOUNT_ID = "123456789012"

# Canonical hosted zone ids of Application Load Balancers per region (used by Route 53 aliases).
# https://docs.aws.amazon.com/general/latest/gr/elb.html
ALB_HOSTED_ZONE_IDS = {"eu-central-1": "Z215JYRZR1TBD5", "eu-west-1": "Z32O12XQLNTSW2"}


def _hex(seed: str, length: int) -> str:
    """Deterministic hex so that two runs of the same stack print the same ids."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


def account_of(config: dict[str, str] | None) -> str:
    """The account a stack's run answers for: the one `aws:allowedAccountIds` names (the provider would
    refuse any other), else ACCOUNT_ID. The settings validate the key; this only reads it."""
    try:
        accounts = json.loads((config or {}).get("aws:allowedAccountIds") or "null")
    except json.JSONDecodeError:
        return ACCOUNT_ID
    if isinstance(accounts, list) and len(accounts) == 1 and isinstance(accounts[0], (str, int)):
        return str(accounts[0])
    return ACCOUNT_ID


def aws_like_state(typ: str, name: str, inputs: dict, region: str,
                   account_id: str = ACCOUNT_ID) -> tuple[str, dict]:
    """The id and outputs AWS would return for a resource of this type (inputs are kept)."""
    seed = f"{typ}/{name}/{region}"
    physical = inputs.get("name") or f"{name}-{_hex(seed, 7)}"
    arn_base = f"{region}:{account_id}"
    state = dict(inputs)
    service, _, kind = typ.partition(":")[2].partition("/")
    kind = kind.split(":")[0]

    def arn(svc: str, resource: str, regional: bool = True) -> str:
        return f"arn:aws:{svc}:{arn_base if regional else ':' + account_id}:{resource}"

    rid = physical
    if typ == "aws:ec2/vpc:Vpc":
        rid = f"vpc-{_hex(seed, 17)}"
        state.update(arn=arn("ec2", f"vpc/{rid}"), defaultRouteTableId=f"rtb-{_hex(seed + 'rt', 17)}",
                     mainRouteTableId=f"rtb-{_hex(seed + 'rt', 17)}", ownerId=account_id)
    elif service == "ec2" and kind in _EC2_PREFIXES:
        rid = f"{_EC2_PREFIXES[kind]}-{_hex(seed, 17)}"
        state.update(arn=arn("ec2", f"{_EC2_ARN_KINDS.get(kind, kind)}/{rid}"), ownerId=account_id)
        if kind == "eip":
            state.update(publicIp=f"3.{int(_hex(seed, 2), 16)}.{int(_hex(seed + 'b', 2), 16)}.10", allocationId=rid)
        if kind == "vpcEndpoint":
            state.update(prefixListId=f"pl-{_hex(seed, 8)}" if inputs.get("vpcEndpointType") == "Gateway" else None,
                         networkInterfaceIds=[f"eni-{_hex(seed + s, 17)}" for s in inputs.get("subnetIds") or []])
    elif typ == "aws:ecs/cluster:Cluster":
        rid = arn("ecs", f"cluster/{physical}")
        state.update(arn=rid, name=physical)
    elif typ == "aws:ecs/service:Service":
        cluster = str(inputs.get("cluster", "")).rsplit("/", 1)[-1]
        rid = arn("ecs", f"service/{cluster}/{physical}")
        state.update(arn=rid, name=physical)
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        family = inputs.get("family", physical)
        state.update(arn=arn("ecs", f"task-definition/{family}:1"),
                     arnWithoutRevision=arn("ecs", f"task-definition/{family}"), revision=1)
        rid = family
    elif typ.startswith("aws:servicediscovery/") and kind.endswith("Namespace"):
        rid = f"ns-{_hex(seed, 16)}"
        state.update(arn=arn("servicediscovery", f"namespace/{rid}"), hostedZone=f"Z{_hex(seed, 20).upper()}")
    elif typ == "aws:lb/loadBalancer:LoadBalancer":
        suffix = f"app/{physical}/{_hex(seed, 16)}"
        rid = arn("elasticloadbalancing", f"loadbalancer/{suffix}")
        state.update(arn=rid, arnSuffix=suffix, name=physical, zoneId=ALB_HOSTED_ZONE_IDS.get(region, "Z0PREVIEW"),
                     dnsName=f"{physical}-{int(_hex(seed, 8), 16) % 10**10}.{region}.elb.amazonaws.com")
    elif typ == "aws:lb/listener:Listener":
        lb = str(inputs.get("loadBalancerArn", "")).split("loadbalancer/")[-1]
        rid = arn("elasticloadbalancing", f"listener/{lb}/{_hex(seed, 16)}")
        state.update(arn=rid)
    elif typ == "aws:lb/listenerRule:ListenerRule":
        listener = str(inputs.get("listenerArn", "")).split("listener/")[-1]
        rid = arn("elasticloadbalancing", f"listener-rule/{listener}/{_hex(seed, 16)}")
        state.update(arn=rid)
    elif typ == "aws:lb/targetGroup:TargetGroup":
        suffix = f"targetgroup/{physical}/{_hex(seed, 16)}"
        rid = arn("elasticloadbalancing", suffix)
        state.update(arn=rid, arnSuffix=suffix, name=physical)
    elif typ == "aws:ecr/repository:Repository":
        state.update(arn=arn("ecr", f"repository/{physical}"), registryId=account_id, name=physical,
                     repositoryUrl=f"{account_id}.dkr.ecr.{region}.amazonaws.com/{physical}")
    elif typ == "aws:kms/key:Key":
        rid = _uuid(seed)
        state.update(arn=arn("kms", f"key/{rid}"), keyId=rid)
    elif typ == "aws:kms/alias:Alias":
        state.update(arn=arn("kms", str(inputs.get("name", f"alias/{physical}"))))
    elif typ in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
        path = inputs.get("path") or "/"
        state.update(arn=f"arn:aws:iam::{account_id}:{kind}{path}{physical}", name=physical,
                     uniqueId=f"AROA{_hex(seed, 17).upper()}", policyId=f"ANPA{_hex(seed, 17).upper()}")
    elif typ.startswith("aws:s3/bucket"):
        bucket = inputs.get("bucket") or f"{name}-{_hex(seed, 7)}"
        if kind in ("bucket", "bucketV2"):
            rid = bucket
            state.update(arn=f"arn:aws:s3:::{bucket}", bucket=bucket, bucketDomainName=f"{bucket}.s3.amazonaws.com",
                         bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com", region=region)
        else:
            rid = str(inputs.get("bucket", physical))
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        state.update(arn=arn("logs", f"log-group:{physical}"), name=physical)
    elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        state.update(arn=arn("cloudwatch", f"alarm:{physical}"), name=physical)
    elif typ == "aws:sns/topic:Topic":
        state.update(arn=arn("sns", physical), name=physical)
    elif typ == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
        alarm = inputs.get("alarmName") or physical
        state.update(arn=arn("cloudwatch", f"alarm:{alarm}"), alarmName=alarm)
        rid = alarm
    elif typ == "aws:acmpca/certificateAuthority:CertificateAuthority":
        rid = arn("acm-pca", f"certificate-authority/{_uuid(seed)}")
        state.update(arn=rid, certificateSigningRequest="-----BEGIN CERTIFICATE REQUEST-----\nPREVIEW\n-----END CERTIFICATE REQUEST-----")
    elif typ == "aws:acmpca/certificate:Certificate":
        rid = f"{inputs.get('certificateAuthorityArn')}/certificate/{_hex(seed, 32)}"
        state.update(arn=rid, certificate="-----BEGIN CERTIFICATE-----\nPREVIEW\n-----END CERTIFICATE-----", certificateChain="")
    elif typ == "aws:acm/certificate:Certificate":
        rid = arn("acm", f"certificate/{_uuid(seed)}")
        domain = inputs.get("domainName", "example.com")
        state.update(arn=rid, domainValidationOptions=[{
            "domainName": domain, "resourceRecordName": f"_{_hex(seed, 32)}.{domain}.",
            "resourceRecordType": "CNAME", "resourceRecordValue": f"_{_hex(seed + 'v', 32)}.acm-validations.aws."}])
    elif typ == "aws:route53/record:Record":
        rid = f"{inputs.get('zoneId')}_{inputs.get('name')}_{inputs.get('type')}"
        state.update(fqdn=inputs.get("name"))
    elif typ == "aws:route53/healthCheck:HealthCheck":
        rid = _uuid(seed)
        state.update(arn=f"arn:aws:route53:::healthcheck/{rid}")
    elif typ == "aws:secretsmanager/secret:Secret":
        rid = arn("secretsmanager", f"secret:{physical}-{_hex(seed, 6)}")
        state.update(arn=rid, name=physical)
    elif typ == "aws:ssm/parameter:Parameter":
        param = str(physical)
        state.update(arn=arn("ssm", f"parameter{param if param.startswith('/') else '/' + param}"), name=param)
    elif typ == "aws:appautoscaling/target:Target":
        rid = str(inputs.get("resourceId", physical))
        state.update(arn=arn("application-autoscaling", f"scalable-target/{_hex(seed, 30)}"))
    elif typ == "aws:appautoscaling/policy:Policy":
        state.update(arn=arn("autoscaling", f"scalingPolicy:{_uuid(seed)}:resource/{inputs.get('resourceId')}:policyName/{physical}"))
    elif typ == "aws:arcregionswitch/plan:Plan":
        # Plans are global: no region in the ARN, a random six-character suffix after the name.
        rid = f"arn:aws:arc-region-switch::{account_id}:plan/{physical}:{_hex(seed, 6)}"
        state.update(arn=rid)
    elif typ == "aws:lambda/function:Function":
        # Lambda's ARNs separate the name with a colon (SAR: function:${FunctionName}).
        state.update(arn=arn("lambda", f"function:{physical}"))
    elif typ == "aws:budgets/budget:Budget":
        rid = f"{account_id}:{physical}"
        state.update(arn=f"arn:aws:budgets::{account_id}:budget/{physical}", accountId=account_id)
    elif typ in _DATA_AND_EVENTS_TYPES:
        rid = _data_and_events_state(typ, physical, inputs, state, arn, seed, region, account_id)
    elif typ.startswith("aws:"):
        state.setdefault("arn", arn(service, f"{kind}/{physical}"))
    state.setdefault("id", rid)
    if inputs.get("tags") is not None:
        state.setdefault("tagsAll", inputs["tags"])
    return rid, state


_DATA_AND_EVENTS_TYPES = frozenset({
    "aws:dynamodb/table:Table", "aws:sqs/queue:Queue", "aws:cloudwatch/eventBus:EventBus",
    "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventArchive:EventArchive", "aws:pipes/pipe:Pipe",
    "aws:rds/cluster:Cluster", "aws:rds/globalCluster:GlobalCluster", "aws:rds/clusterInstance:ClusterInstance"})


def _data_and_events_state(typ: str, physical: str, inputs: dict, state: dict, arn, seed: str, region: str,
                           account_id: str) -> str:
    """ARNs and computed attributes of tables, queues, buses, rules, pipes and Aurora clusters as AWS forms them."""
    if typ == "aws:dynamodb/table:Table":
        state.update(arn=arn("dynamodb", f"table/{physical}"))
        stream = f"table/{physical}/stream/2026-01-01T00:00:00.000"
        if inputs.get("streamEnabled"):
            state.update(streamArn=arn("dynamodb", stream), streamLabel="2026-01-01T00:00:00.000")
        state["replicas"] = [{**replica, "arn": f"arn:aws:dynamodb:{replica['regionName']}:{account_id}:table/{physical}",
                              "streamArn": f"arn:aws:dynamodb:{replica['regionName']}:{account_id}:{stream}"}
                             for replica in inputs.get("replicas") or []]
        return physical
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account_id}/{physical}"
        state.update(arn=arn("sqs", physical), url=url, name=physical)
        return url
    if typ == "aws:cloudwatch/eventBus:EventBus":
        state.update(arn=arn("events", f"event-bus/{physical}"), name=physical)
        return physical
    if typ == "aws:cloudwatch/eventRule:EventRule":
        state.update(arn=arn("events", f"rule/{inputs.get('eventBusName', 'default')}/{physical}"), name=physical)
        return f"{inputs.get('eventBusName', 'default')}/{physical}"
    if typ == "aws:cloudwatch/eventArchive:EventArchive":
        state.update(arn=arn("events", f"archive/{physical}"))
        return physical
    if typ == "aws:pipes/pipe:Pipe":
        state.update(arn=arn("pipes", f"pipe/{physical}"))
        return physical
    identifier = str(inputs.get("clusterIdentifier") or inputs.get("globalClusterIdentifier")
                     or inputs.get("identifier") or physical)
    if typ == "aws:rds/cluster:Cluster":
        state.update(arn=arn("rds", f"cluster:{identifier}"), clusterResourceId=f"cluster-{_hex(seed, 26).upper()}",
                     endpoint=f"{identifier}.cluster-{_hex(seed, 12)}.{region}.rds.amazonaws.com",
                     readerEndpoint=f"{identifier}.cluster-ro-{_hex(seed, 12)}.{region}.rds.amazonaws.com",
                     engineVersion=inputs.get("engineVersion"))
        if inputs.get("manageMasterUserPassword"):
            state["masterUserSecrets"] = [{"secretArn": arn("secretsmanager", f"secret:rds!cluster-{_uuid(seed)}-abcdef"),
                                           "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"), "secretStatus": "active"}]
    elif typ == "aws:rds/globalCluster:GlobalCluster":
        # The global writer endpoint follows the writer (Aurora user guide, aurora-global-database-connecting.html).
        state.update(arn=f"arn:aws:rds::{account_id}:global-cluster:{identifier}", globalClusterIdentifier=identifier,
                     endpoint=f"{identifier}.global-{_hex(seed, 12)}.global.rds.amazonaws.com")
    else:
        state.update(arn=arn("rds", f"db:{identifier}"))
    return identifier


_EC2_PREFIXES = {
    "subnet": "subnet", "securityGroup": "sg", "internetGateway": "igw", "natGateway": "nat",
    "eip": "eipalloc", "routeTable": "rtb", "vpcEndpoint": "vpce", "route": "r", "routeTableAssociation": "rtbassoc",
    "flowLog": "fl", "networkAcl": "acl",
}
_EC2_ARN_KINDS = {"securityGroup": "security-group", "internetGateway": "internet-gateway",
                  "natGateway": "natgateway", "routeTable": "route-table", "vpcEndpoint": "vpc-endpoint",
                  "eip": "elastic-ip", "flowLog": "vpc-flow-log"}


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
    set_mocks(mocks, project=project, stack=stack, preview=unknowns, monitor=monitor)
    reset_runtime()
    result: dict[str, Any] = {}

    def body():
        value = program()
        result["value"] = value
        return pulumi.Output.from_input(value).future() if value is not None else None

    try:
        run_program_function(body)
        # Registrations whose inputs fail late can still be pending when the runtime reports success;
        # their failure belongs to this run, not the next one.
        settle(raise_failure=True)
    except BaseException:
        _drain_after_failure()
        raise
    value = result.get("value")
    resolved = sync_await(pulumi.Output.from_input(value).future(with_unknowns=True)) if value is not None else None
    return Recorder(monitor), resolved


def _drain_after_failure() -> None:
    """A failed program can leave registrations pending in the event loop; finish them quietly so the
    next run in this process (tests, a standby's primary preview) starts clean."""
    settle(raise_failure=False)
    reset_runtime()
    ignore_unretrieved_failures()
