"""No ingress from the whole internet, except HTTP/HTTPS into an application load balancer.

A stack policy, because "is this security group an ALB's" needs the load balancers: a security
group is an ALB security group when an ``aws:lb/loadBalancer:LoadBalancer`` of type
``application`` lists it in ``securityGroups`` (property dependency or the group's ``id``).

Rules come from ``aws:ec2/securityGroup:SecurityGroup`` ``ingress[]``,
``aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule`` and
``aws:ec2/securityGroupRule:SecurityGroupRule`` (``type`` ingress), tied to their group through
``securityGroupId``. World-open means ``0.0.0.0/0`` or ``::/0``. On an ALB group, TCP rules whose
port range is a single port in ``albPorts`` (default 80, 443) are allowed.

Unknown values: an unknown CIDR is computed from another resource (e.g. a VPC's CIDR) and is
never the literal world CIDR, so it is accepted. A world-open rule with unknown ports or
protocol cannot be shown to be an allowed ALB rule and is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .alb_listeners import is_application_lb
from .framework import Finding, PolicySpec, ResourceView
from .stack_links import refers_to
from .values import as_list, is_unknown

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
WORLD = {"0.0.0.0/0", "::/0"}


@dataclass(frozen=True)
class IngressRule:
    owner: ResourceView          # the resource that declares the rule (reported)
    where: str                   # e.g. "ingress[0]" or "the rule"
    cidrs: tuple[Any, ...]
    protocol: Any
    from_port: Any
    to_port: Any


def _rules(resource: ResourceView) -> Iterable[IngressRule]:
    props = resource.props
    if resource.type == SECURITY_GROUP:
        for index, rule in enumerate(as_list(props.get("ingress"))):
            if isinstance(rule, Mapping):
                yield IngressRule(resource, f"ingress[{index}]",
                                  tuple(as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))),
                                  rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
    elif resource.type == INGRESS_RULE:
        yield IngressRule(resource, "the rule", (props.get("cidrIpv4"), props.get("cidrIpv6")),
                          props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"))
    elif resource.type == LEGACY_RULE and props.get("type") in ("ingress", None):
        yield IngressRule(resource, "the rule",
                          tuple(as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))),
                          props.get("protocol"), props.get("fromPort"), props.get("toPort"))


def _group_of(rule: IngressRule, groups: list[ResourceView]) -> ResourceView | None:
    if rule.owner.type == SECURITY_GROUP:
        return rule.owner
    return next((g for g in groups if refers_to(rule.owner, "securityGroupId", g, keys=("id",))), None)


def _single_port(rule: IngressRule) -> int | None:
    try:
        low, high = int(float(rule.from_port)), int(float(rule.to_port))
    except (TypeError, ValueError):
        return None
    return low if low == high else None


def check_world_ingress(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    allowed_ports = {int(p) for p in config["albPorts"]}
    groups = [r for r in resources if r.type == SECURITY_GROUP]
    albs = [r for r in resources if is_application_lb(r)]
    findings = []
    for resource in resources:
        for rule in _rules(resource):
            world = sorted({c for c in rule.cidrs if isinstance(c, str) and not is_unknown(c) and c in WORLD})
            if not world:
                continue
            group = _group_of(rule, groups)
            is_alb_group = group is not None and any(refers_to(lb, "securityGroups", group, keys=("id",)) for lb in albs)
            protocol = str(rule.protocol).lower() if not is_unknown(rule.protocol) else None
            port = _single_port(rule)
            if is_alb_group and protocol in ("tcp", "6") and port in allowed_ports:
                continue
            scope = (f"port {port}" if port is not None else
                     f"ports {rule.from_port!r}-{rule.to_port!r}") + f" protocol {rule.protocol!r}"
            what = "an application load balancer's security group" if is_alb_group else \
                "a security group that no application load balancer uses"
            findings.append(Finding(
                f"{rule.where} opens {scope} to {', '.join(world)} on {what}. Only ALB groups may accept the "
                f"internet, on TCP {', '.join(str(p) for p in sorted(allowed_ports))}. Restrict the source to a "
                "security group (referenced_security_group_id / security_groups) or a private CIDR.",
                urn=resource.urn))
    return findings


NO_WORLD_OPEN_INGRESS = PolicySpec(
    name="no-world-open-ingress",
    description="No security group accepts traffic from 0.0.0.0/0 or ::/0, except TCP 80/443 into an "
                "application load balancer.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Reference the ALB's security group as the source instead of a world CIDR.",
    unknowns="Unknown CIDRs are accepted (never the literal world CIDR); world-open rules with unknown ports or "
             "protocol are reported.",
    check=check_world_ingress,
    stack=True,
    config={
        "albPorts": {"type": "array", "items": {"type": "integer"}, "default": [80, 443],
                     "description": "TCP ports an ALB security group may open to the world."},
    },
)
