"""Route 53 failover between the primary region's ALB and the standby region's ALB.

One record name (e.g. `api.example.com`) has two alias A records in the same hosted zone:
- the PRIMARY record (created by the primary stack) points at the primary ALB and carries a Route 53
  health check on the ALB's health endpoint;
- the SECONDARY record (created by the standby stack, in the zone the primary exports) points at the
  standby ALB.
Route 53 answers with the PRIMARY while its health check passes, otherwise with the SECONDARY. With a
traffic gate (components/failover/region_actions.py), each record follows a calculated check: its ALB's
readiness AND its gate, which only the Region switch plan opens and closes, so DNS neither fails over nor
fails back to a region whose database is not the writer (docs/failover.md, "Safe failback").

Route 53 is a global service, so the component uses whichever provider it is given: the standby stack
passes its own eu-west-1 provider and never needs an eu-central-1 one.

AWS facts this relies on (see docs/failover.md for sources):
- health check request interval is 10 or 30 s, failure threshold 1-10, custom checker regions >= 3
  from a fixed list;
- the checked name must not be the failover record's own name ("unpredictable" results), so the check
  targets the ALB's own DNS name (certificates aren't validated, SNI still works);
- alias records to an ALB have a fixed TTL of 60 s and take no `ttl` argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws.route53 as route53

# Route 53 HealthCheckConfig limits (API_HealthCheckConfig).
HEALTH_CHECK_REQUEST_INTERVALS_SECONDS = (10, 30)
HEALTH_CHECK_FAILURE_THRESHOLD_MIN = 1
HEALTH_CHECK_FAILURE_THRESHOLD_MAX = 10
HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH = 255
# The image contract's readiness path, under a service's pathPrefix (docs/failover.md, "Readiness"): 200 only
# while the service can serve a write from this region, i.e. its database accepts one here.
READINESS_PATH = "/ready"
# The only regions Route 53 runs health checkers from; a custom list needs at least three of them
# (API_HealthCheckConfig, Regions). foundation/settings.py takes its allowed values from here.
HEALTH_CHECKER_REGIONS = (
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
)
HEALTH_CHECKER_REGIONS_MIN = 3
# Route 53 fixes the TTL of alias records that point at an AWS resource such as an ALB.
ALIAS_RECORD_TTL_SECONDS = 60

FailoverRole = Literal["primary", "standby"]
_ROUTING_TYPE_BY_ROLE = {"primary": "PRIMARY", "standby": "SECONDARY"}


def health_check_timing_problems(request_interval_seconds: int, failure_threshold: int) -> list[str]:
    """What Route 53 would reject in these health-check timings (empty when both are valid)."""
    problems = []
    if request_interval_seconds not in HEALTH_CHECK_REQUEST_INTERVALS_SECONDS:
        problems.append(f"request interval must be one of {HEALTH_CHECK_REQUEST_INTERVALS_SECONDS} seconds, "
                        f"got {request_interval_seconds!r}")
    if not (isinstance(failure_threshold, int) and not isinstance(failure_threshold, bool)
            and HEALTH_CHECK_FAILURE_THRESHOLD_MIN <= failure_threshold <= HEALTH_CHECK_FAILURE_THRESHOLD_MAX):
        problems.append(f"failure threshold must be an integer from {HEALTH_CHECK_FAILURE_THRESHOLD_MIN} to "
                        f"{HEALTH_CHECK_FAILURE_THRESHOLD_MAX}, got {failure_threshold!r}")
    return problems


def health_check_target_problem(checked_name: str, record_name: str) -> str | None:
    """Why Route 53 could misjudge a health check on `checked_name` attached to `record_name`, or None."""
    if checked_name.rstrip(".").lower() == record_name.rstrip(".").lower():
        return (f"the health check must not target the failover record's own name {record_name!r} "
                "(Route 53 results are unpredictable); use the ALB's DNS name or a per-region name")
    return None


@dataclass(frozen=True)
class DnsFailoverArgs:
    """What one side of the failover pair needs.

    role: "primary" creates the health check and the PRIMARY record; "standby" creates the SECONDARY record.
    region: the region of the ALB this record points at; part of the record's set identifier.
    hosted_zone_id / record_name: the zone and the shared failover name (the standby takes both from the
        primary's stack outputs `hostedZoneId` and `apiRecordName`).
    alb_dns_name / alb_zone_id: this side's ALB (`dnsName`, canonical hosted zone `zoneId`).
    health_check_*: what the primary's health check probes on its ALB's own DNS name (never the failover
        record's name) and how often; the values are the stack's `failover` settings (foundation/settings.py),
        so they have no defaults here. Only the primary creates (and validates) a health check; a standby
        passes the same settings, unused.
    evaluate_target_health: off. With it, the alias also requires a healthy target in every target group of
        the ALB, and AWS documents that a target group without registered targets counts as unhealthy
        (resource-record-sets-values-failover-alias.html). Between deployments the alternate group of every
        blue/green pair is empty, so an evaluated alias could look down while the service is up and fail
        over for no reason, or refuse to fail back. Failover follows the explicit health check only, which
        requests a real service path through the ALB (docs/failover.md).
    """

    role: FailoverRole
    region: str
    hosted_zone_id: pulumi.Input[str]
    record_name: pulumi.Input[str]
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    health_check_path: str
    health_check_request_interval_seconds: int
    health_check_failure_threshold: int
    health_checker_regions: tuple[str, ...]
    evaluate_target_health: bool = False
    traffic_gate_id: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.role not in _ROUTING_TYPE_BY_ROLE:
            problems.append(f"role must be 'primary' or 'standby', got {self.role!r}")
        if not self.region:
            problems.append("region is empty")
        if self.role == "primary" or self.traffic_gate_id is not None:
            # Plain names are checked here, before any deployment; Outputs when they resolve (see below).
            if isinstance(self.checked_name, str) and isinstance(self.record_name, str):
                target_problem = health_check_target_problem(self.checked_name, self.record_name)
                if target_problem:
                    problems.append(target_problem)
            problems += health_check_timing_problems(self.health_check_request_interval_seconds,
                                                     self.health_check_failure_threshold)
            if not self.health_check_path.startswith("/") or \
                    len(self.health_check_path) > HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH:
                problems.append(f"health_check_path must start with '/' and be at most "
                                f"{HEALTH_CHECK_RESOURCE_PATH_MAX_LENGTH} characters, got {self.health_check_path!r}")
            unknown = [r for r in self.health_checker_regions if r not in HEALTH_CHECKER_REGIONS]
            if unknown:
                problems.append(f"health_checker_regions {unknown} are not Route 53 checker regions "
                                f"{HEALTH_CHECKER_REGIONS}")
            if len(set(self.health_checker_regions)) < HEALTH_CHECKER_REGIONS_MIN:
                problems.append(f"health_checker_regions needs at least {HEALTH_CHECKER_REGIONS_MIN} distinct "
                                f"regions, got {list(self.health_checker_regions)}")
        if problems:
            raise ValueError("DnsFailoverArgs: " + "; ".join(problems))

    @property
    def checked_name(self) -> pulumi.Input[str]:
        """The name the health check probes: the ALB's own DNS name."""
        return self.alb_dns_name

    @property
    def routing_type(self) -> str:
        return _ROUTING_TYPE_BY_ROLE[self.role]

    @property
    def set_identifier(self) -> str:
        # Unique among the records sharing the name; says which side and where at a glance.
        return f"{self.role}-{self.region}"


class DnsFailover(pulumi.ComponentResource):
    """One side of a Route 53 failover pair: PRIMARY (with health check) or SECONDARY alias record.

    Outputs: `record_fqdn`, `set_identifier`, `health_check_id` (the readiness check; None for a standby
    without a traffic gate).
    """

    record_fqdn: pulumi.Output[str]
    """The API name this stack's failover record answers for."""
    set_identifier: pulumi.Output[str]
    """PRIMARY or SECONDARY: which side of the failover pair this record is."""
    health_check_id: pulumi.Output[str | None]
    """The readiness check of this side's ALB (the record follows it AND the traffic gate when one is given)."""

    def __init__(self, name: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("microservices:platform:DnsFailover", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        health_check: route53.HealthCheck | None = None
        if args.role == "primary" or args.traffic_gate_id is not None:
            checked_name = pulumi.Output.all(args.checked_name, args.record_name).apply(
                lambda names: _checked_name_distinct_from_record(*names))
            health_check = route53.HealthCheck(
                f"{name}-health",
                type="HTTPS",
                port=443,
                fqdn=checked_name,
                resource_path=args.health_check_path,
                request_interval=args.health_check_request_interval_seconds,
                failure_threshold=args.health_check_failure_threshold,
                regions=list(args.health_checker_regions),
                # Sends the checked name in the TLS client_hello so the ALB can pick a certificate.
                enable_sni=True,
                tags={**args.tags, "Name": f"{name}-{args.role}-alb-{args.region}"},
                opts=child,
            )
        record_check: route53.HealthCheck | None = health_check
        if health_check is not None and args.traffic_gate_id is not None:
            # Healthy only while both are: the region answers its readiness path (its database takes writes
            # here) AND the Region switch plan has opened its gate (docs/failover.md, "Safe failback").
            record_check = route53.HealthCheck(
                f"{name}-writer-and-gate", type="CALCULATED", child_health_threshold=2,
                child_healthchecks=[health_check.id, args.traffic_gate_id],
                tags={**args.tags, "Name": f"{name}-{args.role}-ready-and-open-{args.region}"}, opts=child)

        record = route53.Record(
            f"{name}-{args.role}",
            zone_id=args.hosted_zone_id,
            name=args.record_name,
            type="A",
            set_identifier=args.set_identifier,
            failover_routing_policies=[{"type": args.routing_type}],
            # No `ttl`: an alias to an ALB has Route 53's fixed 60 s TTL.
            aliases=[{
                "name": args.alb_dns_name,
                "zone_id": args.alb_zone_id,
                "evaluate_target_health": args.evaluate_target_health,
            }],
            health_check_id=record_check.id if record_check is not None else None,
            opts=child,
        )

        self.record_fqdn = record.fqdn
        self.set_identifier = pulumi.Output.from_input(args.set_identifier)
        self.health_check_id = health_check.id if health_check is not None else pulumi.Output.from_input(None)
        self.register_outputs({
            "recordFqdn": self.record_fqdn,
            "setIdentifier": self.set_identifier,
            "healthCheckId": self.health_check_id,
        })


def _checked_name_distinct_from_record(checked_name: str, record_name: str) -> str:
    problem = health_check_target_problem(checked_name, record_name)
    if problem:
        raise ValueError(f"DnsFailover: {problem}")
    return checked_name
