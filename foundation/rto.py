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


# --- the Region switch plan ----------------------------------------------------------------------
# Estimates of what the plan's blocks take, used where the operator has not measured them in a drill
# (`failover.scaleUpMinutes`, `failover.databaseSwitchMinutes`; docs/failover.md, "RTO"). Not AWS figures.
DEFAULT_DECISION_MINUTES = 2.0
DEFAULT_APPROVAL_MINUTES = 5.0
DEFAULT_SCALE_UP_MINUTES = 4.0
DEFAULT_DATABASE_SWITCH_MINUTES = 3.0
# Starting or stopping a pipe, each region's step with ARC's retry interval of one minute.
OUTBOX_SWITCH_MINUTES = 1.0
# The managed RPO of Aurora PostgreSQL global databases: rds.global_db_rpo, 20 s at least (Aurora user guide,
# aurora-global-database-disaster-recovery.html#aurora-global-database-manage-recovery).
GLOBAL_DB_RPO_MIN_SECONDS = 20
DEFAULT_RPO_SECONDS = 60


@dataclass(frozen=True)
class PlanTermKeys:
    """Config keys of each term, so that an RTO over the objective names what to change."""

    detection: str = "microservices-foundation:failover.healthCheckIntervalSeconds / failureThreshold / decisionMinutes"
    approval: str = "microservices-foundation:failover.approvalMinutes"
    scale_up: str = "microservices-foundation:failover.scaleUpMinutes"
    database: str = "microservices-foundation:failover.databaseSwitchMinutes"
    outbox: str = "(fixed: one pipe start/stop with ARC's one-minute retry)"
    dns: str = "microservices-foundation:failover.healthCheckIntervalSeconds / failureThreshold (plus the fixed 60 s TTL)"
    objective: str = "microservices-foundation:failover.rtoObjectiveMinutes"


@dataclass(frozen=True)
class PlanTerm:
    step: str
    seconds: float
    key: str


@dataclass(frozen=True)
class PlanTime:
    """The RTO the Region switch plan implies: detection, approval, stopping the old outbox, the slowest of
    scale-up, database and starting the new outbox, then DNS."""

    terms: tuple[PlanTerm, ...]
    parallel: tuple[str, ...]
    rto_objective_seconds: float

    @property
    def total_seconds(self) -> float:
        serial = sum(t.seconds for t in self.terms if t.step not in self.parallel)
        return serial + max((t.seconds for t in self.terms if t.step in self.parallel), default=0)

    @property
    def meets_objective(self) -> bool:
        return self.total_seconds <= self.rto_objective_seconds

    @property
    def costliest(self) -> PlanTerm:
        return max(self.terms, key=lambda t: t.seconds)

    def summary(self) -> str:
        """e.g. 'detection 150 s + approval 300 s + max(scale-up 240 s, database 180 s) + ... = 840 s (14.0 min)'."""
        serial = [f"{t.step} {t.seconds:g} s" for t in self.terms if t.step not in self.parallel]
        together = [f"{t.step} {t.seconds:g} s" for t in self.terms if t.step in self.parallel]
        inner = [f"max({', '.join(together)})"] if len(together) > 1 else together
        before = sum(1 for t in self.terms if t.step in ("detection", "approval", "stop-outbox"))
        parts = serial[:before] + inner + serial[before:]
        return (f"{' + '.join(parts)} = {self.total_seconds:g} s ({self.total_seconds / 60:.1f} min, "
                f"objective {self.rto_objective_seconds / 60:g} min)")


def plan_time(*, request_interval_seconds: int, failure_threshold: int, decision_minutes: float,
              approval_minutes: float | None, scale_up_minutes: float, database_switch_minutes: float | None,
              outbox: bool, dns: bool, rto_objective_minutes: float,
              keys: PlanTermKeys = PlanTermKeys()) -> PlanTime:
    """The plan's RTO from its terms; raises FailoverConfigError naming the costliest step when it exceeds
    the objective. approval_minutes / database_switch_minutes: None when the plan has no such step; dns:
    whether a failover record moves (without it, clients reach each region by its own ALB name)."""
    detection = request_interval_seconds * failure_threshold + decision_minutes * 60
    terms = [PlanTerm("detection", detection, keys.detection)]
    if approval_minutes is not None:
        terms.append(PlanTerm("approval", approval_minutes * 60, keys.approval))
    terms.append(PlanTerm("scale-up", scale_up_minutes * 60, keys.scale_up))
    if database_switch_minutes is not None:
        terms.append(PlanTerm("database", database_switch_minutes * 60, keys.database))
    if outbox:
        # Stopping the old region's pipes comes first; starting the new region's runs with scale-up.
        terms.append(PlanTerm("stop-outbox", OUTBOX_SWITCH_MINUTES * 60, keys.outbox))
        terms.append(PlanTerm("start-outbox", OUTBOX_SWITCH_MINUTES * 60, keys.outbox))
    # The new region's record turns healthy once its gate opens and its readiness check passes (already
    # passing once its database is the writer); resolvers then wait out the alias TTL.
    if dns:
        terms.append(PlanTerm("dns", request_interval_seconds * failure_threshold + ALIAS_RECORD_TTL_SECONDS,
                              keys.dns))
    estimate = PlanTime(terms=tuple(terms), parallel=("scale-up", "database", "start-outbox"),
                        rto_objective_seconds=rto_objective_minutes * 60)
    if not estimate.meets_objective:
        worst = estimate.costliest
        raise FailoverConfigError(
            f"the Region switch plan takes about {estimate.summary()}, over the objective; the costliest step "
            f"is {worst.step} ({worst.seconds:g} s): lower {worst.key}, or raise {keys.objective}")
    return estimate


@dataclass(frozen=True)
class RpoBound:
    """What the stacks bound the data loss of an ungraceful failover to (graceful switchover loses none)."""

    aurora_seconds: int | None
    dynamodb_alarm_seconds: int | None

    def summary(self) -> str:
        parts = ["switchover (graceful) 0 s"]
        if self.aurora_seconds is not None:
            parts.append(f"failover (ungraceful): Aurora <= {self.aurora_seconds} s (rds.global_db_rpo, enforced)")
        if self.dynamodb_alarm_seconds is not None:
            parts.append(f"DynamoDB replication latency alarmed above {self.dynamodb_alarm_seconds} s (not enforced)")
        if len(parts) == 1:
            parts.append("nothing is replicated, so a failover starts from the standby's own data")
        return "; ".join(parts)
