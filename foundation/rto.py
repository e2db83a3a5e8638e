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

from components.dns_failover import ALIAS_RECORD_TTL_SECONDS, health_check_timing_problems

# Default objective from the project's seed settings; the stacks should configure the 2-minute target.
DEFAULT_RECOVERY_TIME_OBJECTIVE_SECONDS = 15 * 60
TARGET_RECOVERY_TIME_OBJECTIVE_SECONDS = 2 * 60


class FailoverConfigError(ValueError):
    """A failover setting is invalid, or the settings together cannot meet the recovery objective."""


@dataclass(frozen=True)
class FailoverConfigKeys:
    """The config keys the settings come from, so that errors name what the operator must change."""

    request_interval: str = "failover.healthCheckIntervalSeconds"
    failure_threshold: str = "failover.healthCheckFailureThreshold"
    recovery_time_objective: str = "failover.recoveryTimeObjectiveSeconds"


@dataclass(frozen=True)
class FailoverTime:
    """Each term of the estimate, kept separate so the preview can show the sum."""

    request_interval_seconds: int
    failure_threshold: int
    dns_ttl_seconds: int
    recovery_time_objective_seconds: int

    @property
    def detection_seconds(self) -> int:
        return self.request_interval_seconds * self.failure_threshold

    @property
    def total_seconds(self) -> int:
        return self.detection_seconds + self.dns_ttl_seconds

    @property
    def meets_objective(self) -> bool:
        return self.total_seconds <= self.recovery_time_objective_seconds

    def summary(self) -> str:
        """e.g. 'detection 30 s + DNS TTL 60 s = 90 s (objective 120 s)'."""
        return (f"detection {self.detection_seconds} s + DNS TTL {self.dns_ttl_seconds} s = "
                f"{self.total_seconds} s (objective {self.recovery_time_objective_seconds} s)")


def failover_time(request_interval_seconds: int, failure_threshold: int,
                  recovery_time_objective_seconds: int = DEFAULT_RECOVERY_TIME_OBJECTIVE_SECONDS,
                  *, keys: FailoverConfigKeys = FailoverConfigKeys()) -> FailoverTime:
    """The failover time these health-check settings imply, checked against the objective.

    Raises FailoverConfigError naming the config keys when a value is outside what Route 53 accepts
    or when the estimate exceeds the objective.
    """
    problems = health_check_timing_problems(request_interval_seconds, failure_threshold)
    if problems:
        raise FailoverConfigError(
            f"{keys.request_interval} / {keys.failure_threshold}: " + "; ".join(problems))
    if not isinstance(recovery_time_objective_seconds, int) or recovery_time_objective_seconds <= 0:
        raise FailoverConfigError(f"{keys.recovery_time_objective} must be a positive number of seconds, "
                                  f"got {recovery_time_objective_seconds!r}")
    estimate = FailoverTime(request_interval_seconds=request_interval_seconds,
                            failure_threshold=failure_threshold,
                            dns_ttl_seconds=ALIAS_RECORD_TTL_SECONDS,
                            recovery_time_objective_seconds=recovery_time_objective_seconds)
    if not estimate.meets_objective:
        raise FailoverConfigError(
            f"failover takes about {estimate.summary()}, over the objective: lower {keys.request_interval} "
            f"(10 or 30) or {keys.failure_threshold} (1-10), or raise {keys.recovery_time_objective}; "
            f"the DNS TTL of {ALIAS_RECORD_TTL_SECONDS} s is fixed by Route 53 for alias records")
    return estimate
