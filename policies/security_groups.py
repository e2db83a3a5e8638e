"""No ingress from the whole internet, except HTTP/HTTPS into an application load balancer.

A stack policy, because "is this security group an ALB's" needs the load balancers: a security
group is an ALB security group when an ``aws:lb/loadBalancer:LoadBalancer`` of type
``application`` lists it in ``securityGroups`` (property dependency or the group's ``id``).

Rules come from ``aws:ec2/securityGroup:SecurityGroup`` ``ingress[]``,
``aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule`` and
``aws:ec2/securityGroupRule:SecurityGroupRule`` (``type`` ingress), tied to their group through
``securityGroupId`` (``aws:ec2/defaultSecurityGroup:DefaultSecurityGroup`` ``ingress[]`` too).

World-open is judged on what the sources add up to, not on their spelling: the CIDRs of all the
rules of one security group (the ALB exception aside) are merged with the ``ipaddress`` module, and
if they cover every internet address (all of IPv4 but the special-purpose blocks of NOT_INTERNET, or
all of IPv6 global unicast ``2000::/3``), every rule contributing an internet range is reported. So
``0.0.0.0/1`` + ``128.0.0.0/1`` (in one rule or two), ``::/1`` + ``8000::/1`` and ``2000::/3`` are the
world as much as ``0.0.0.0/0`` and ``::/0`` are. On an
ALB group, TCP rules whose port range is a single port in ``albPorts`` (default 80, 443) may use
any source.

Unknown values: a world-open rule with unknown ports or protocol cannot be shown to be an allowed
ALB rule and is reported. A group whose known sources do not cover the internet but which has a
source CIDR unknown during preview is deferred to ``pulumi up`` (the unknown range might complete
the union).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .alb_listeners import is_application_lb
from .framework import Finding, PolicySpec, ResourceView, deferred
from .stack_links import Targets, refers_to
from .values import as_list, get_path, is_known_text, is_unknown

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
WORLDS = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
# Address space nobody on the internet connects from (RFC 6890 special-purpose blocks for IPv4; for
# IPv6 everything outside global unicast 2000::/3). Sources that cover all the rest are the internet,
# whether spelled 0.0.0.0/0, two halves, or 2000::/3.
NOT_INTERNET = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4", "::/3", "4000::/2", "8000::/1"))


def _reaches_internet(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    return not any(_within(network, n) for n in NOT_INTERNET)


def _within(network: ipaddress.IPv4Network | ipaddress.IPv6Network,
            block: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if isinstance(network, ipaddress.IPv4Network) and isinstance(block, ipaddress.IPv4Network):
        return network.subnet_of(block)
    if isinstance(network, ipaddress.IPv6Network) and isinstance(block, ipaddress.IPv6Network):
        return network.subnet_of(block)
    return False


@dataclass(frozen=True)
class IngressRule:
    owner: ResourceView          # the resource that declares the rule (reported)
    where: str                   # e.g. "ingress[0]" or "the rule"
    cidrs: tuple[Any, ...]
    protocol: Any
    from_port: Any
    to_port: Any
    prefix_lists: tuple[Any, ...] = ()


def _rules(resource: ResourceView) -> Iterable[IngressRule]:
    props = resource.props
    if resource.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        for index, rule in enumerate(as_list(props.get("ingress"))):
            if isinstance(rule, Mapping):
                yield IngressRule(resource, f"ingress[{index}]",
                                  tuple(as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))),
                                  rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"),
                                  tuple(as_list(rule.get("prefixListIds"))))
    elif resource.type == INGRESS_RULE:
        yield IngressRule(resource, "the rule", (props.get("cidrIpv4"), props.get("cidrIpv6")),
                          props.get("ipProtocol"), props.get("fromPort"), props.get("toPort"),
                          tuple(as_list(props.get("prefixListId"))))
    elif resource.type == LEGACY_RULE and props.get("type") in ("ingress", None):
        yield IngressRule(resource, "the rule",
                          tuple(as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))),
                          props.get("protocol"), props.get("fromPort"), props.get("toPort"),
                          tuple(as_list(props.get("prefixListIds"))))


def _group_of(rule: IngressRule, groups: Targets) -> ResourceView | None:
    """The rule's security group: the group declaring it, else the first group its securityGroupId refers to."""
    if rule.owner.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP):
        return rule.owner
    return next(iter(groups.referred(rule.owner, "securityGroupId")), None)


def _single_port(rule: IngressRule) -> int | None:
    try:
        low, high = int(float(rule.from_port)), int(float(rule.to_port))
    except (TypeError, ValueError, OverflowError):
        return None
    return low if low == high else None


def _prefix_list_cidrs(rule: IngressRule, prefix_lists: list[ResourceView], entries: list[ResourceView]) -> list[Any]:
    """The CIDRs of the stack's managed prefix lists the rule names (by id/ARN or property dependency); an unknown
    prefix list id that depends on none of them is unknown. Prefix lists outside the stack (AWS managed ones,
    such as CloudFront's origin-facing list) are not resolved."""
    cidrs: list[Any] = []
    linked = [d for deps in rule.owner.property_dependencies.values() for d in deps if d in prefix_lists]
    for value in rule.prefix_lists:
        found = [p for p in prefix_lists if is_known_text(value) and value in {p.props.get("id"), p.props.get("arn")}]
        if is_unknown(value) and not linked:
            cidrs.append(value)
        for plist in found or (linked if is_unknown(value) else []):
            cidrs += [get_path(e, "cidr") for e in as_list(plist.props.get("entries"))]
            cidrs += [e.props.get("cidr") for e in entries if refers_to(e, "prefixListId", plist)]
    return cidrs


def _networks(rule: IngressRule, extra: list[Any] = ()) -> tuple[list[ipaddress.IPv4Network | ipaddress.IPv6Network], bool]:  # type: ignore[assignment]  # () as a read-only default
    """The rule's known source networks (its CIDRs and ``extra`` ones), and whether one of its sources is unknown."""
    networks, unknown = [], False
    for cidr in list(rule.cidrs) + list(extra):
        if is_unknown(cidr):
            unknown = True
        elif isinstance(cidr, str) and cidr.strip():
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError:
                continue  # not a CIDR: AWS refuses it
    return networks, unknown


def _scope(rule: IngressRule) -> str:
    port = _single_port(rule)
    return (f"port {port}" if port is not None else f"ports {rule.from_port!r}-{rule.to_port!r}") + \
        f" protocol {rule.protocol!r}"


def _internet_size(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> int:
    """How many internet addresses the networks cover together (special-purpose blocks left out)."""
    total = 0
    for net in ipaddress.collapse_addresses(networks):  # type: ignore[type-var]  # callers pass one IP version
        total += net.num_addresses
        for block in NOT_INTERNET:
            if block.version != net.version:
                continue
            if net.subnet_of(block):  # type: ignore[arg-type]  # same IP version: callers pass one
                total -= net.num_addresses
            elif block.subnet_of(net):  # type: ignore[arg-type]  # same IP version: callers pass one
                total -= block.num_addresses
    return total


def _world_limits(config: Mapping[str, Any]) -> dict[int, int]:
    """Per IP version, the most internet addresses a group may open (one /8 for IPv4, one /32 for IPv6 by default);
    more than that is as good as the internet (0.0.0.0/0 minus one address, two halves...)."""
    widest = config["widestInternetPrefix"]
    return {4: 2 ** (32 - int(widest.get("ipv4", 8))), 6: 2 ** (128 - int(widest.get("ipv6", 32)))}


Judged = list[tuple[IngressRule, list[ipaddress.IPv4Network | ipaddress.IPv6Network], bool]]

# Where a resource names the security groups of its network interfaces.
GROUP_LISTS = ("securityGroups", "vpcSecurityGroupIds", "securityGroupIds")


def check_world_ingress(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    allowed_ports = {int(p) for p in config["albPorts"]}
    limits = _world_limits(config)
    groups = Targets([r for r in resources if r.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP)], keys=("id",))
    albs = [r for r in resources if is_application_lb(r)]
    alb_groups = {id(g) for lb in albs for g in groups.referred(lb, "securityGroups")}
    prefix_lists = [r for r in resources if r.type == PREFIX_LIST]
    entries = [r for r in resources if r.type == PREFIX_LIST_ENTRY]
    # rules per security group (a rule whose group is not in the stack is grouped by its securityGroupId)
    by_group: dict[Any, tuple[ResourceView | None, list[IngressRule]]] = {}
    for resource in resources:
        for rule in _rules(resource):
            group = _group_of(rule, groups)
            group_id = rule.owner.props.get("securityGroupId")
            key = id(group) if group is not None else (group_id if is_known_text(group_id) else id(rule.owner))
            by_group.setdefault(key, (group, []))[1].append(rule)
    findings: list[Finding] = []
    judged_of: dict[int, Judged] = {}
    for group, rules in by_group.values():
        is_alb_group = group is not None and id(group) in alb_groups
        judged: Judged = []
        for rule in rules:
            protocol = str(rule.protocol).lower() if not is_unknown(rule.protocol) else None
            if is_alb_group and protocol in ("tcp", "6") and _single_port(rule) in allowed_ports:
                continue
            judged.append((rule, *_networks(rule, _prefix_list_cidrs(rule, prefix_lists, entries))))
        group_findings = list(_judge_group_sources(judged, is_alb_group, allowed_ports, limits))
        findings.extend(group_findings)
        if group is not None and not any(not f.deferred for f in group_findings):
            judged_of[id(group)] = judged
    findings.extend(_judge_interfaces(resources, groups, judged_of, limits))
    return findings


def _groups_of(resource: ResourceView, groups: Targets) -> list[ResourceView]:
    """The security groups of the resource's network interfaces, in the order its properties name them."""
    found: dict[int, ResourceView] = {}
    for prop in (*GROUP_LISTS, "networkConfiguration"):
        value = resource.props.get(prop)
        if value is None:
            continue
        names = as_list(get_path(value, "securityGroups") if prop == "networkConfiguration" else value)
        for group in groups.referred(resource, prop, names):
            found[id(group)] = group
    return list(found.values())


def _judge_interfaces(resources: list[ResourceView], groups: Targets, judged_of: dict[int, Judged],
                      limits: dict[int, int]) -> Iterable[Finding]:
    """Security groups add up on a network interface: two groups that each open half the internet open all of it
    to every resource that carries both (an ECS service, an instance, a load balancer, an endpoint)."""
    for resource in resources:
        if resource.type in (SECURITY_GROUP, DEFAULT_SECURITY_GROUP) or not any(
                p in resource.props for p in (*GROUP_LISTS, "networkConfiguration")):
            continue
        attached = [g for g in _groups_of(resource, groups) if id(g) in judged_of]
        if len(attached) < 2:
            continue
        for version, limit in limits.items():
            networks = [n for g in attached for _, nets, _ in judged_of[id(g)] for n in nets if n.version == version]
            if networks and _internet_size(networks) > limit:
                names = ", ".join(f"'{g.name}'" for g in attached)
                yield Finding(f"its security groups {names} together accept {_internet_size(networks)} IPv{version} "
                              "internet addresses, as good as the whole internet, though none does alone. Restrict "
                              "the sources to a security group or private CIDRs.", urn=resource.urn)


def _judge_group_sources(judged: Judged, is_alb_group: bool, allowed_ports: set[int],
                         limits: dict[int, int]) -> Iterable[Finding]:
    what = "an application load balancer's security group" if is_alb_group else \
        "a security group that no application load balancer uses"
    any_world = False
    for world in WORLDS:
        networks = [n for _, nets, _ in judged for n in nets if n.version == world.version]
        if not networks or _internet_size(networks) <= limits[world.version]:
            continue
        any_world = True
        culprits = [(rule, [n for n in nets if n.version == world.version and _reaches_internet(n)])
                    for rule, nets, _ in judged]
        culprits = [(rule, nets) for rule, nets in culprits if nets]
        for rule, nets in culprits:
            sources = ", ".join(str(n) for n in nets)
            others = [f"{other.owner.name} {other.where}" for other, _ in culprits if other is not rule]
            together = f" together with {', '.join(others)}" if others else ""
            findings_text = (f"{rule.where} opens {_scope(rule)} to {sources}{together}, which reaches (nearly) every "
                             f"internet address as {world} does (the whole internet), on {what}. Only ALB groups may accept "
                             f"the internet, on TCP {', '.join(str(p) for p in sorted(allowed_ports))}. Restrict the "
                             "source to a security group (referenced_security_group_id / security_groups) or a "
                             "private CIDR.")
            yield Finding(findings_text, urn=rule.owner.urn)
    if not any_world:
        for rule, _, unknown in judged:
            if unknown:
                yield deferred(f"{rule.where} has a source CIDR unknown during preview, so whether the group's sources "
                               "together open the internet", urn=rule.owner.urn)


NO_WORLD_OPEN_INGRESS = PolicySpec(
    name="no-world-open-ingress",
    description="No security group accepts traffic from the whole internet (0.0.0.0/0 or ::/0, also as the union "
                "of its rules' CIDRs), except TCP 80/443 into an application load balancer.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Reference the ALB's security group as the source instead of a world CIDR.",
    unknowns="World-open rules with unknown ports or protocol are reported; a group with an unknown source CIDR "
             "whose known sources do not cover the internet is deferred to `pulumi up`.",
    check=check_world_ingress,
    stack=True,
    config={
        "albPorts": {"type": "array", "items": {"type": "integer"}, "default": [80, 443],
                     "description": "TCP ports an ALB security group may open to the world."},
        "widestInternetPrefix": {
            "type": "object", "properties": {"ipv4": {"type": "integer", "minimum": 1, "maximum": 32},
                                             "ipv6": {"type": "integer", "minimum": 1, "maximum": 128}},
            "default": {"ipv4": 8, "ipv6": 32},
            "description": "The most internet addresses a group (or an interface's groups together) may accept, as a "
                           "prefix length: more is as good as the whole internet."},
    },
)
