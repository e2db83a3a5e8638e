"""Every VPC has the interface and gateway endpoints Fargate needs without a NAT gateway.

The seeds require these endpoints in every VPC whatever its NAT strategy (image pulls, logs, parameters
and secrets stay on the AWS network and NAT traffic stays minimal), so a NAT gateway replaces none of them.

A stack policy, because it relates endpoints to VPCs. An endpoint belongs to a VPC when

* its ``propertyDependencies["vpcId"]`` contains the VPC's URN (real preview: the id is unknown), or
* its ``vpcId`` value equals the VPC's id (offline: ``id`` output of ``aws:ec2/vpc:Vpc``,
  ``vpcId`` output of an ``awsx:ec2:Vpc`` component).

An ``awsx:ec2:Vpc`` component counts as a VPC (offline its child ``aws:ec2/vpc:Vpc`` does not
exist). In a real preview both appear; the child is folded into its component so that an
endpoint linked to either satisfies the requirement for both.

An endpoint counts only when it can carry traffic: an Interface endpoint in subnets (``subnetIds`` or an
``aws:ec2/vpcEndpointSubnetAssociation``), a Gateway endpoint on route tables (``routeTableIds`` or an
``aws:ec2/vpcEndpointRouteTableAssociation``), and an endpoint policy, if any, that allows something.

Service names must be ``com.amazonaws.<the VPC's region>.<service>``. The VPC's region comes
from its own ``region`` input or its provider; when unknown, the endpoint's own region is used;
when both are unknown, the region check is deferred to ``pulumi up``.

Unknown values: an endpoint whose VPC cannot be determined (unknown ``vpcId`` without a property
dependency) cannot count for any VPC, and its own settings are deferred to ``pulumi up``. An unknown
``serviceName``, ``vpcEndpointType`` or ``privateDnsEnabled`` cannot satisfy a requirement: these are
literals in any sane program, so the endpoint is reported as unverifiable. When neither the VPC's
nor the endpoint's region is known, the region in the service name is deferred to ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
from .stack_links import refers_to
from .values import DocumentError, as_list, get_path, is_unknown, parse_json_document, shown

VPC_TYPE = "aws:ec2/vpc:Vpc"
SUBNET_ASSOCIATION = "aws:ec2/vpcEndpointSubnetAssociation:VpcEndpointSubnetAssociation"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation"
ENDPOINT_TYPE = "aws:ec2/vpcEndpoint:VpcEndpoint"


@dataclass(eq=False)
class VpcGroup:
    """One VPC: an ``aws:ec2/vpc:Vpc`` and/or the component that wraps it."""

    members: list[ResourceView] = field(default_factory=list)

    @property
    def reported(self) -> ResourceView:
        return self.members[0]

    @property
    def region(self) -> str | None:
        regions = [m.region for m in self.members if m.region]
        return regions[0] if regions else None

    def owns(self, endpoint: ResourceView) -> bool:
        return self.owns_via(endpoint, "vpcId")

    def owns_via(self, resource: ResourceView, prop: str) -> bool:
        return any(refers_to(resource, prop, member, keys=("id", "vpcId")) for member in self.members)


def _component_ancestor(resource: ResourceView, component_types: set[str]) -> ResourceView | None:
    parent = resource.parent
    while parent is not None:
        if parent.type in component_types:
            return parent
        parent = parent.parent
    return None


def vpc_groups(resources: Iterable[ResourceView], component_types: set[str]) -> list[VpcGroup]:
    groups: dict[int, VpcGroup] = {}
    for resource in resources:
        if resource.type in component_types:
            groups.setdefault(id(resource), VpcGroup()).members.insert(0, resource)
    for resource in resources:
        if resource.type == VPC_TYPE:
            component = _component_ancestor(resource, component_types)
            key = id(component) if component is not None else id(resource)
            groups.setdefault(key, VpcGroup()).members.append(resource)
    return list(groups.values())


def _service_region_and_suffix(service_name: str) -> tuple[str, str] | None:
    prefix = "com.amazonaws."
    if not service_name.startswith(prefix):
        return None
    region, _, service = service_name[len(prefix):].partition(".")
    return (region, service) if service else None


def check_vpc_endpoints(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    component_types = set(config["vpcComponentTypes"])
    required = [(str(s), "Interface") for s in config["interfaceServices"]] + \
               [(str(s), "Gateway") for s in config["gatewayServices"]]
    endpoints = [r for r in resources if r.type == ENDPOINT_TYPE]
    findings: list[Finding] = []
    linked_somewhere: set[int] = set()
    for group in vpc_groups(resources, component_types):
        linked = [e for e in endpoints if group.owns(e)]
        linked_somewhere.update(id(e) for e in linked)
        findings.extend(_judge_group(group, linked, required, resources))
    for endpoint in endpoints:
        if id(endpoint) not in linked_somewhere and is_unknown(endpoint.props.get("vpcId")):
            findings.append(deferred("its VPC cannot be determined during preview (unknown vpcId without a property "
                                     "dependency), so it counts for no VPC", urn=endpoint.urn))
    return findings


def _reaches_nothing(endpoint: ResourceView, endpoint_type: str, resources: list[ResourceView]) -> str | None:
    """Why an endpoint serves no task (no subnets or route tables, a policy that allows nothing), or None."""
    prop, association, where = ("subnetIds", SUBNET_ASSOCIATION, "subnet") if endpoint_type == "Interface" else \
        ("routeTableIds", ROUTE_TABLE_ASSOCIATION, "route table")
    attached = endpoint.props.get(prop)
    if not (is_unknown(attached) or any(is_unknown(v) or (isinstance(v, str) and v.strip()) for v in as_list(attached))) \
            and not any(r.type == association and refers_to(r, "vpcEndpointId", endpoint) for r in resources):
        return f"it has no {prop} (nor an aws.ec2 endpoint {where} association), so no task's traffic reaches it"
    policy = endpoint.props.get("policy")
    if policy is not None and not is_unknown(policy):
        try:
            document = parse_json_document(policy)
        except DocumentError:
            return None  # no-wildcard-iam reports a document it cannot parse
        statements = [st for st in as_list(get_path(document, "Statement")) if isinstance(st, Mapping)] \
            if isinstance(document, Mapping) else []
        if not any(is_unknown(st.get("Effect")) or st.get("Effect") == "Allow" for st in statements):
            return "its endpoint policy allows nothing, so every request through it is denied"
    return None


def _judge_group(group: VpcGroup, linked: list[ResourceView], required: list[tuple[str, str]],
                 resources: list[ResourceView]) -> Iterable[Finding]:
    satisfied: set[str] = set()
    misconfigured: set[str] = set()  # reported on the endpoint itself, not again as missing
    unverifiable: list[ResourceView] = []
    for endpoint in linked:
        region = group.region or endpoint.region
        service_name = endpoint.props.get("serviceName")
        if not isinstance(service_name, str) or is_unknown(service_name):
            unverifiable.append(endpoint)
            continue
        parsed = _service_region_and_suffix(service_name)
        if parsed is None:
            continue
        named_region, service = parsed
        wanted = dict(required).get(service)
        if wanted is None:
            continue
        if not region:
            yield deferred(f"the region of the VPC and of endpoint '{endpoint.name}' are unknown, so whether "
                           f"'{service_name}' names the VPC's region", urn=endpoint.urn)
        elif named_region != region:
            yield Finding(f"serviceName '{service_name}' names region {named_region} but the VPC is in {region}. "
                          f"Use 'com.amazonaws.{region}.{service}' (derive it from the provider's region).",
                          urn=endpoint.urn)
            misconfigured.add(service)
            continue
        endpoint_type = endpoint.props.get("vpcEndpointType") or "Gateway"
        if is_unknown(endpoint_type) or endpoint_type != wanted:
            yield Finding(f"endpoint for '{service}' has vpcEndpointType {endpoint_type!r} (unknown counts as "
                          f"unverifiable); set vpc_endpoint_type='{wanted}'.", urn=endpoint.urn)
            misconfigured.add(service)
            continue
        if wanted == "Interface" and endpoint.props.get("privateDnsEnabled") is not True:
            private_dns = shown(endpoint.props.get("privateDnsEnabled"))
            yield Finding(f"interface endpoint for '{service}' has privateDnsEnabled {private_dns}; without private "
                          "DNS the SDKs in the tasks still resolve the public endpoint. Set private_dns_enabled=True "
                          "(the VPC needs enable_dns_hostnames and enable_dns_support).", urn=endpoint.urn)
            misconfigured.add(service)
            continue
        useless = _reaches_nothing(endpoint, wanted, resources)
        if useless is not None:
            yield Finding(f"{wanted} endpoint for '{service}' does not count: {useless}. Attach it to the private "
                          f"{'subnets' if wanted == 'Interface' else 'route tables'} and give it a policy that allows "
                          "the platform's calls (or none).", urn=endpoint.urn)
            misconfigured.add(service)
            continue
        satisfied.add(service)

    region_text = group.region or "<region>"
    unverifiable_note = ""
    if unverifiable:
        names = ", ".join(f"'{e.name}'" for e in unverifiable)
        unverifiable_note = (f" Endpoint(s) {names} have a serviceName unknown during preview and cannot count; "
                             "build it from literals and the provider region.")
    for service, wanted in required:
        if service in satisfied or service in misconfigured:
            continue
        extra = " with private_dns_enabled=True, the private subnets and a security group allowing 443 from the tasks" \
            if wanted == "Interface" else " attached to the private route tables"
        yield Finding(f"the VPC has no {wanted} endpoint 'com.amazonaws.{region_text}.{service}'. Add "
                      f"aws.ec2.VpcEndpoint(vpc_id=<this VPC>, service_name='com.amazonaws.{region_text}.{service}', "
                      f"vpc_endpoint_type='{wanted}'{extra}).{unverifiable_note}",
                      urn=group.reported.urn)


REQUIRED_VPC_ENDPOINTS = PolicySpec(
    name="required-vpc-endpoints",
    description="Every VPC has private endpoints for ECR (api, dkr), CloudWatch Logs, SSM, Secrets Manager "
                "(Interface, private DNS) and S3 (Gateway) in its own region, whatever the NAT strategy.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Create the missing aws.ec2.VpcEndpoint resources with service names "
                "com.amazonaws.<region>.<service> for the VPC's region.",
    unknowns="Unknown serviceName/type/privateDnsEnabled cannot satisfy a requirement and are reported as "
             "unverifiable; an endpoint whose VPC or region cannot be determined is deferred to `pulumi up`.",
    check=check_vpc_endpoints,
    stack=True,
    config={
        "interfaceServices": {
            "type": "array", "items": {"type": "string"},
            "default": ["ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager"],
            "description": "Services that need an Interface endpoint with private DNS in every VPC.",
        },
        "gatewayServices": {
            "type": "array", "items": {"type": "string"}, "default": ["s3"],
            "description": "Services that need a Gateway endpoint in every VPC.",
        },
        "vpcComponentTypes": {
            "type": "array", "items": {"type": "string"}, "default": ["awsx:ec2:Vpc"],
            "description": "Component resource types that stand for a VPC (their outputs carry vpcId).",
        },
    },
)
