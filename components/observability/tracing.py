"""TraceSampling: the X-Ray sampling rule of a stack, at the same ratio as the apps' own sampler.

The apps sample locally (`OTEL_TRACES_SAMPLER=parentbased_traceidratio` with the stack's
`trace_sampling_ratio`, container_definitions.py): 100 % in staging, 10 % in prod by default. A local
ratio sampler does not ask X-Ray, so this rule is what any X-Ray-sampling client (the ADOT remote sampler,
the console's sampling view, a future switch to `OTEL_TRACES_SAMPLER=xray`) sees, and it must say the
same thing: `fixed_rate` is the same ratio, and the reservoir is 0 so X-Ray never adds traces on top.

X-Ray rules are per account and region and every matching rule competes by priority. A rule's
`Attributes` are compared with the attributes of the span being sampled; the apps put the environment
only in resource attributes (OTEL_RESOURCE_ATTRIBUTES) and set no span attribute from the platform, so
a rule keyed on it would match nothing. The rule therefore matches every request (SPAN_ATTRIBUTES_SET is
what it may key on: nothing), and where both environments share an account and a region the rule with
the lower priority number decides for X-Ray-sampling clients (docs/operating.md, "Tracing").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws.xray as xray

from components.core.types import Environment

COMPONENT_TYPE = "microservices:observability:TraceSampling"
# API_SamplingRule: RuleName 1-32 characters; Priority 1-9999 (the Default rule is 10000).
RULE_NAME_MAX = 32
PRIORITY = {"prod": 100, "staging": 200}
# Span attributes every service sets on its spans by the platform's configuration (none: the platform
# sets only resource attributes and environment variables). A rule attribute outside this set never matches.
SPAN_ATTRIBUTES_SET: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TraceSamplingArgs:
    name_prefix: str
    environment: Environment
    # The stack's trace_sampling_ratio, the same value MeshService gives OTEL_TRACES_SAMPLER_ARG.
    sampling_ratio: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.sampling_ratio <= 1.0:
            raise ValueError(f"sampling ratio {self.sampling_ratio} must be within 0..1")
        if len(self.rule_name) > RULE_NAME_MAX:
            raise ValueError(f"X-Ray rule name {self.rule_name!r} exceeds {RULE_NAME_MAX} characters")

    @property
    def rule_name(self) -> str:
        return f"{self.name_prefix}-ratio"


def sampling_rule_request(args: TraceSamplingArgs) -> dict[str, Any]:
    """The CreateSamplingRule `SamplingRule` structure (tests validate it against botocore's X-Ray model)."""
    return {"RuleName": args.rule_name, "Priority": PRIORITY[args.environment], "FixedRate": args.sampling_ratio,
            "ReservoirSize": 0, "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*",
            "URLPath": "*", "ResourceARN": "*", "Version": 1, "Attributes": {}}


class TraceSampling(pulumi.ComponentResource):
    rule_name: pulumi.Output[str | None]
    """Name of the stack's X-Ray sampling rule."""

    def __init__(self, name: str, args: TraceSamplingArgs, tags: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        rule = sampling_rule_request(args)
        self.rule = xray.SamplingRule(
            f"{name}-rule", rule_name=rule["RuleName"], priority=rule["Priority"], fixed_rate=rule["FixedRate"],
            reservoir_size=rule["ReservoirSize"], service_name=rule["ServiceName"], service_type=rule["ServiceType"],
            host=rule["Host"], http_method=rule["HTTPMethod"], url_path=rule["URLPath"],
            resource_arn=rule["ResourceARN"], version=rule["Version"], attributes=rule["Attributes"],
            tags=dict(tags or {}), opts=pulumi.ResourceOptions(parent=self))
        self.rule_name = self.rule.rule_name
        self.register_outputs({"ruleName": self.rule_name})
