"""The account's default VPC stays out of the program, and its default security group stays shut.

Every region of an account has a default VPC whose subnets give instances public IP addresses, and
a default security group that lets its members talk to each other and everything out. The platform
runs in its own VPC, so:

* ``aws:ec2/defaultVpc:DefaultVpc`` and ``aws:ec2/defaultSubnet:DefaultSubnet`` (which adopt the
  default network into the program) are refused;
* ``aws:ec2/defaultSecurityGroup:DefaultSecurityGroup`` is only accepted with no ingress and no
  egress rules: adopting it to remove every rule is the CIS-recommended lock-down, adopting it to
  open it is not.

Unknown values: unknown ``ingress``/``egress`` of a default security group are deferred to
``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
from .values import as_list, is_unknown

DEFAULT_VPC_TYPES = frozenset({"aws:ec2/defaultVpc:DefaultVpc", "aws:ec2/defaultSubnet:DefaultSubnet"})
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


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
