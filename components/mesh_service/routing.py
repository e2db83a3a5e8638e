"""ALB routing of a public service: a blue/green target-group pair and the listener rule ECS shifts on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws.lb as lb

from components.legacy.legacy_route import split_action
from components.mesh_service.args import MeshServiceArgs
from components.mesh_service.protocol import TARGET_GROUP_PROTOCOL_VERSION, target_group_matcher


@dataclass(frozen=True)
class Routing:
    target_groups: tuple[lb.TargetGroup, lb.TargetGroup]
    listener_rule: lb.ListenerRule
    # While the stack splits the route with a legacy Lambda (components/legacy/legacy_route.py).
    legacy_split_rule: lb.ListenerRule | None = None


def create_routing(name: str, args: MeshServiceArgs, *, tags: Mapping[str, str],
                   child: Callable[..., pulumi.ResourceOptions]) -> Routing:
    service, load_balancer = args.service, args.platform.load_balancer
    if service.path_prefix is None:
        raise ValueError(f"service {service.name!r} has no path prefix to route")
    paths = [service.path_prefix, f"{service.path_prefix}/*"]
    groups = []
    for letter, tg_name in zip("ab", args.target_group_names, strict=False):
        groups.append(lb.TargetGroup(
            f"{name}-tg-{letter}", name=tg_name, port=service.port, protocol="HTTP",
            protocol_version=TARGET_GROUP_PROTOCOL_VERSION[service.protocol],
            target_type="ip", vpc_id=args.platform.network.vpc_id, deregistration_delay=30,
            health_check={"enabled": True, "path": service.health_path, "protocol": "HTTP", "port": "traffic-port",
                          "matcher": target_group_matcher(service.protocol), "interval": 15, "timeout": 5, "healthy_threshold": 2,
                          "unhealthy_threshold": 3},
            tags=dict(tags), opts=child()))
    primary, alternate = groups
    # ECS rewrites the forward weights during every canary/linear shift; Pulumi must not undo them.
    rule = lb.ListenerRule(
        f"{name}-route", listener_arn=load_balancer.routing_listener_arn, priority=service.listener_rule_priority,
        conditions=[{"path_pattern": {"values": paths}}],
        actions=[{"type": "forward", "forward": {"target_groups": [
            {"arn": primary.arn, "weight": 100}, {"arn": alternate.arn, "weight": 0}]}}],
        tags=dict(tags), opts=child(ignore_changes=["actions"]))
    split_rule = None
    if args.legacy is not None:
        # Same paths, evaluated first; Pulumi owns its weights (ECS never touches this rule).
        split_rule = lb.ListenerRule(
            f"{name}-legacy-split", listener_arn=load_balancer.routing_listener_arn, priority=args.legacy.priority,
            conditions=[{"path_pattern": {"values": paths}}],
            actions=[split_action(args.legacy, primary.arn)], tags=dict(tags), opts=child())
    return Routing((primary, alternate), rule, split_rule)
