"""ECS services never give tasks a public IP.

Checks ``aws:ecs/service:Service`` ``networkConfiguration.assignPublicIp``. Absent means false
(the AWS and pulumi-aws default), which is compliant.

Unknown values: ``assignPublicIp`` is a literal in any sane program; an unknown value cannot be
shown to be false and is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, judge_literal
from .values import get_path


def check_no_public_ip(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    return judge_literal("networkConfiguration.assignPublicIp",
                         get_path(resource.props, "networkConfiguration", "assignPublicIp"),
                         lambda assign: assign is None or assign is False,
                         "; tasks get a public IPv4 address (billed, and reachable if a security group allows it). "
                         "Set network_configuration.assign_public_ip=False, run tasks in private subnets and reach "
                         "AWS services through VPC endpoints.",
                         unknown="unknown during preview (cannot be shown to be false)")


ECS_NO_PUBLIC_IP = PolicySpec(
    name="ecs-no-public-ip",
    description="ECS services run tasks without public IP addresses.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Set network_configuration.assign_public_ip=False and use private subnets.",
    unknowns="An unknown assignPublicIp is reported (it cannot be shown to be false).",
    check=check_no_public_ip,
    resource_types=frozenset({"aws:ecs/service:Service"}),
)
