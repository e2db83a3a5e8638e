"""The account's default VPC stays out of the program, and its default security group stays shut.

Every region of an account has a default VPC whose subnets give instances public IP addresses, and
a default security group that lets its members talk to each other and everything out. The platform
runs in its own VPC, so:

* ``aws:ec2/defaultVpc:DefaultVpc`` and ``aws:ec2/defaultSubnet:DefaultSubnet`` (which adopt the
  default network into the program) are refused;
* ``aws:ec2/defaultSecurityGroup:DefaultSecurityGroup`` is only accepted with no ingress and no
  egress rules: adopting it to remove every rule is the CIS-recommended lock-down, adopting it to
  open it is not.

``no-default-network-use`` (stack policy) catches the same network used by reference: a ``vpcId`` naming an
``aws:ec2/defaultVpc`` (or an id in the ``defaultVpcIds`` knob), subnets naming default subnets, and rule
resources (``aws:vpc/securityGroupIngressRule`` ...) or network interfaces naming a default security group
(an ``aws:ec2/defaultSecurityGroup``, or a VPC's ``defaultSecurityGroupId``).

Unknown values: unknown ``ingress``/``egress`` of a default security group are deferred to
``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
from .security_groups import GROUP_LISTS
from .values import as_list, get_path, is_known_text, is_unknown

DEFAULT_VPC_TYPES = frozenset({"aws:ec2/defaultVpc:DefaultVpc", "aws:ec2/defaultSubnet:DefaultSubnet"})
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
DEFAULT_SUBNET = "aws:ec2/defaultSubnet:DefaultSubnet"
VPC = "aws:ec2/vpc:Vpc"
RULE_TYPES = frozenset({"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                        "aws:ec2/securityGroupRule:SecurityGroupRule"})


def check_default_network(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type in DEFAULT_VPC_TYPES:
        return [Finding("adopts the account's default network, whose subnets hand out public IP addresses; the "
                        "platform's workloads run in its own VPC. Remove this resource from the program (and delete "
                        "the default VPC outside it).")]
    findings: list[Finding] = []
    for direction in ("ingress", "egress"):
        rules = resource.props.get(direction)
        if is_unknown(rules) or any(is_unknown(rule) for rule in as_list(rules)):
            findings.append(deferred(f"{direction} is unknown during preview"))
        elif as_list(rules):
            findings.append(Finding(
                f"the default security group gets {len(as_list(rules))} {direction} rule(s); anything launched "
                "without a security group lands in it. Manage it only to remove every rule (ingress=[], egress=[]) "
                "and give workloads their own security groups."))
    return findings


NO_DEFAULT_VPC = PolicySpec(
    name="no-default-vpc",
    description="The program does not adopt the default VPC or its subnets, and manages the default security group "
                "only to remove all its rules.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Use the platform's own VPC; if you manage the default security group, set ingress=[] and egress=[].",
    unknowns="Unknown ingress/egress of a default security group are deferred to `pulumi up`.",
    check=check_default_network,
    resource_types=DEFAULT_VPC_TYPES | {DEFAULT_SECURITY_GROUP},
)


def _values(resource: ResourceView, prop: str) -> list[Any]:
    value = resource.props.get(prop)
    if prop == "networkConfiguration":
        value = get_path(value, "securityGroups")
    elif prop == "subnetMappings":
        value = [get_path(m, "subnetId") for m in as_list(value)]
    return [value] if is_unknown(value) else as_list(value)


# Every property check_default_network_use reads references from.
_REFERENCING_PROPS = ("vpcId", "subnetId", "subnetIds", "subnets", "subnetMappings", "securityGroupId", *GROUP_LISTS,
                      "networkConfiguration")


def check_default_network_use(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    default_vpcs = [r for r in resources if r.type == DEFAULT_VPC]
    default_subnets = [r for r in resources if r.type == DEFAULT_SUBNET]
    default_groups = [r for r in resources if r.type == DEFAULT_SECURITY_GROUP]
    vpcs = [r for r in resources if r.type == VPC]
    vpc_ids = {str(v) for v in config["defaultVpcIds"]} | {
        r.props["id"] for r in default_vpcs if is_known_text(r.props.get("id"))}
    subnet_ids = {r.props["id"] for r in default_subnets if is_known_text(r.props.get("id"))}
    group_ids = {r.props["id"] for r in default_groups if is_known_text(r.props.get("id"))} | {
        r.props["defaultSecurityGroupId"] for r in vpcs + default_vpcs if is_known_text(r.props.get("defaultSecurityGroupId"))}
    findings: list[Finding] = []
    for resource in resources:
        if resource.type in (DEFAULT_VPC, DEFAULT_SUBNET, DEFAULT_SECURITY_GROUP):
            continue
        deps, props = resource.property_dependencies, resource.props
        if not any(prop in props or prop in deps for prop in _REFERENCING_PROPS):
            continue  # names no network: nothing below could find a reference
        if any(v in vpc_ids for v in _values(resource, "vpcId") if isinstance(v, str)) or any(
                d.type == DEFAULT_VPC for d in deps.get("vpcId", [])):
            findings.append(Finding("vpcId names the account's default VPC, whose subnets hand out public addresses. "
                                    "Use the platform's VPC.", urn=resource.urn))
        for prop in ("subnetId", "subnetIds", "subnets", "subnetMappings"):
            if any(v in subnet_ids for v in _values(resource, prop) if isinstance(v, str)) or any(
                    d.type == DEFAULT_SUBNET for d in deps.get(prop, [])):
                findings.append(Finding(f"{prop} names a default subnet (public addresses by default). Use the "
                                        "platform's private subnets.", urn=resource.urn))
        group_props = ("securityGroupId",) if resource.type in RULE_TYPES else (*GROUP_LISTS, "networkConfiguration")
        for prop in group_props:
            # A security group id that comes from a VPC is its default group (aws.ec2.Vpc.default_security_group_id).
            # (networkConfiguration also holds subnets, whose values may come from the VPC: only the default group
            # itself counts there.)
            from_vpc = (DEFAULT_SECURITY_GROUP,) if prop == "networkConfiguration" else \
                (DEFAULT_SECURITY_GROUP, VPC, DEFAULT_VPC)
            if any(v in group_ids for v in _values(resource, prop) if isinstance(v, str)) or any(
                    d.type in from_vpc for d in deps.get(prop, [])):
                what = "adds a rule to" if resource.type in RULE_TYPES else "puts its network interfaces into"
                findings.append(Finding(
                    f"{what} the VPC's default security group ({prop}), which everything launched without a group "
                    "shares. Keep the default group empty (ingress=[], egress=[]) and use the workload's own security "
                    "group.", urn=resource.urn))
    return findings


NO_DEFAULT_NETWORK_USE = PolicySpec(
    name="no-default-network-use",
    description="No resource uses the default VPC, its default subnets or a default security group by reference (a "
                "vpcId, subnet or security group id, or separate rule resources that open the default group).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Reference the platform's VPC, private subnets and the workload's own security group.",
    unknowns="References are matched by property dependency (what a preview knows while ids are unknown) and by "
             "known ids; an unknown id that depends on no default resource is the program's own.",
    check=check_default_network_use,
    stack=True,
    config={
        "defaultVpcIds": {"type": "array", "items": {"type": "string"}, "default": [],
                          "description": "Ids of the accounts' default VPCs, which the program must not reference."},
    },
)
