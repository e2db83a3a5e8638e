"""ServiceClientGroups: one "client" security group per called service, worn by the tasks of its callers.

Why: with a rule per call-graph edge, a service called by many others needs one ingress rule per caller on
its own group (60 per direction by default), and every caller one egress rule per callee. With a client
group, the called service admits its client group once and the client group may reach the service once:
two rules whatever the number of callers. A caller's tasks wear its own group plus the client group of
each service it calls (Security groups per network interface: 5, adjustable to 16; foundation/settings/quotas.py
counts it). The groups exist before any service, so call graphs with cycles need no ordering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws.ec2 as ec2

from components.core.types import Environment
from components.core.validation import raise_problem, service_name_problem

COMPONENT_TYPE = "microservices:platform:ServiceClientGroups"


@dataclass(frozen=True)
class ServiceClientGroupsArgs:
    environment: Environment
    vpc_id: pulumi.Input[str]
    # The services something calls, each getting a client group.
    called_services: Sequence[str]

    def __post_init__(self) -> None:
        for name in self.called_services:
            raise_problem(service_name_problem(name))
        if len(set(self.called_services)) != len(self.called_services):
            raise ValueError(f"called services must be unique: {list(self.called_services)}")


class ServiceClientGroups(pulumi.ComponentResource):
    group_ids: dict[str, pulumi.Output[str]]
    """Called service -> the id of the security group its callers' tasks wear."""

    def __init__(self, name: str, args: ServiceClientGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        # No rules here: the called service adds both (ingress on its group, egress on this one), because
        # only it knows its port. Without inline egress the provider drops AWS's default allow-all egress.
        self.group_ids = {
            service: ec2.SecurityGroup(
                f"{name}-{service}", vpc_id=args.vpc_id,
                description=f"{args.environment}: worn by tasks that call {service}",
                tags={"Name": f"{args.environment}-{service}-clients", "clients-of": service},
                opts=pulumi.ResourceOptions(parent=self)).id
            for service in args.called_services}
        self.register_outputs({"groupIds": self.group_ids})
