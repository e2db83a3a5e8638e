"""The failover time the Route 53 wiring implies, compared with the recovery time objective.

Pure arithmetic, no Pulumi: the preview prints it and the settings loader calls it so that a config that
cannot meet its objective fails before anything is deployed.

    detection = health-check request interval x failure threshold
    DNS switch = alias record TTL (Route 53 fixes it at 60 s for aliases to an ALB)
    failover  = detection + DNS switch

It is an estimate, not an AWS-published figure: it leaves out the endpoint's connect/response timeouts,
the propagation of the record change to Route 53's name servers, and resolvers that ignore TTLs.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.failover.dns_failover import ALIAS_RECORD_TTL_SECONDS, health_check_timing_problems

# Default objective of the seed settings (`failover.rtoObjectiveMinutes`); our target is 2 minutes.
DEFAULT_RTO_OBJECTIVE_MINUTES = 15.0
TARGET_RTO_OBJECTIVE_MINUTES = 2.0


class FailoverConfigError(ValueError):
    """A failover setting is invalid, or the settings together cannot meet the recovery objective."""


@dataclass(frozen=True)
class FailoverConfigKeys:
    """The config keys the settings come from, so that errors name what the operator must change.

    Defaults are the keys `foundation.settings` reads.
    """

    request_interval: str = "microservices-foundation:failover.healthCheckIntervalSeconds"
    failure_threshold: str = "microservices-foundation:failover.failureThreshold"
    rto_objective: str = "microservices-foundation:failover.rtoObjectiveMinutes"


@dataclass(frozen=True)
class FailoverTime:
    """Each term of the estimate, kept separate so the preview can show the sum."""

    request_interval_seconds: int
    failure_threshold: int
    dns_ttl_seconds: int
    rto_objective_seconds: float

    @property
    def detection_seconds(self) -> int:
        return self.request_interval_seconds * self.failure_threshold

    @property
    def total_seconds(self) -> int:
        return self.detection_seconds + self.dns_ttl_seconds

    @property
    def meets_objective(self) -> bool:
        return self.total_seconds <= self.rto_objective_seconds

    def summary(self) -> str:
        """e.g. 'detection 30 s + DNS TTL 60 s = 90 s (objective 120 s)'."""
        return (f"detection {self.detection_seconds} s + DNS TTL {self.dns_ttl_seconds} s = "
                f"{self.total_seconds} s (objective {self.rto_objective_seconds:g} s)")


def failover_time(request_interval_seconds: int, failure_threshold: int,
                  rto_objective_minutes: float = DEFAULT_RTO_OBJECTIVE_MINUTES,
                  *, keys: FailoverConfigKeys = FailoverConfigKeys()) -> FailoverTime:
    """The failover time these health-check settings imply, checked against the objective.

    Raises FailoverConfigError naming the config keys when a value is outside what Route 53 accepts
    or when the estimate exceeds the objective.
    """
    problems = health_check_timing_problems(request_interval_seconds, failure_threshold)
    if problems:
        raise FailoverConfigError(
            f"{keys.request_interval} / {keys.failure_threshold}: " + "; ".join(problems))
    if isinstance(rto_objective_minutes, bool) or not isinstance(rto_objective_minutes, (int, float)) \
            or rto_objective_minutes <= 0:
        raise FailoverConfigError(f"{keys.rto_objective} must be a positive number of minutes, "
                                  f"got {rto_objective_minutes!r}")
    estimate = FailoverTime(request_interval_seconds=request_interval_seconds,
                            failure_threshold=failure_threshold,
                            dns_ttl_seconds=ALIAS_RECORD_TTL_SECONDS,
                            rto_objective_seconds=rto_objective_minutes * 60)
    if not estimate.meets_objective:
        raise FailoverConfigError(
            f"failover takes about {estimate.summary()}, over the objective: lower {keys.request_interval} "
            f"(10 or 30) or {keys.failure_threshold} (1-10), or raise {keys.rto_objective}; "
            f"the DNS TTL of {ALIAS_RECORD_TTL_SECONDS} s is fixed by Route 53 for alias records")
    return estimate
