"""What AWS would answer for a resource: ids with their real prefixes, ARNs with region and account,
computed attributes (DNS names, endpoints, stream ARNs). Deterministic: derived from a hash of the
resource, so two runs of the same stack print the same ids. Used by devkit.mocks.AwsLikeMocks.
"""

from __future__ import annotations

import hashlib
import json

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
