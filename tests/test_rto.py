"""The failover time the Route 53 wiring implies, and the objective it must meet."""

import pytest

from foundation.rto import (
    DEFAULT_RTO_OBJECTIVE_MINUTES,
    TARGET_RTO_OBJECTIVE_MINUTES,
    FailoverConfigError,
    FailoverConfigKeys,
    failover_time,
)


def test_fast_checks_with_three_failures_take_thirty_seconds_to_detect_plus_the_sixty_second_alias_ttl():
    estimate = failover_time(10, 3, TARGET_RTO_OBJECTIVE_MINUTES)

    assert (estimate.detection_seconds, estimate.dns_ttl_seconds, estimate.total_seconds) == (30, 60, 90)
    assert estimate.summary() == "detection 30 s + DNS TTL 60 s = 90 s (objective 120 s)"


def test_standard_interval_meets_the_default_fifteen_minute_objective_but_not_the_two_minute_target():
    assert DEFAULT_RTO_OBJECTIVE_MINUTES == 15
    assert failover_time(30, 3).total_seconds == 150

    with pytest.raises(FailoverConfigError) as error:
        failover_time(30, 3, TARGET_RTO_OBJECTIVE_MINUTES)

    message = str(error.value)
    assert "detection 90 s + DNS TTL 60 s = 150 s (objective 120 s)" in message
    for key in ("microservices-foundation:failover.healthCheckIntervalSeconds",
                "microservices-foundation:failover.failureThreshold",
                "microservices-foundation:failover.rtoObjectiveMinutes"):
        assert key in message


def test_an_estimate_exactly_at_the_objective_meets_it():
    assert failover_time(10, 3, 1.5).meets_objective  # 90 s against 1.5 min


def test_failing_objective_names_the_keys_the_caller_reads_the_settings_from():
    keys = FailoverConfigKeys(request_interval="dns:interval", failure_threshold="dns:threshold",
                              rto_objective="dr:rtoMinutes")
    with pytest.raises(FailoverConfigError, match=r"dns:interval.*dns:threshold.*dr:rtoMinutes"):
        failover_time(10, 10, 2, keys=keys)  # 100 s detection + 60 s TTL


@pytest.mark.parametrize("interval, threshold", [(15, 3), (0, 3), (10, 0), (10, 11), (30, 2.5), (10, True)])
def test_values_route53_rejects_are_refused_with_the_key_named(interval, threshold):
    with pytest.raises(FailoverConfigError, match=r"failover\.healthCheckIntervalSeconds"):
        failover_time(interval, threshold)


@pytest.mark.parametrize("objective", [0, -1, "2", True])
def test_objective_must_be_a_positive_number_of_minutes(objective):
    with pytest.raises(FailoverConfigError, match=r"failover\.rtoObjectiveMinutes"):
        failover_time(10, 3, objective)


def _plan(**overrides):
    from foundation.rto import plan_time

    terms = dict(request_interval_seconds=10, failure_threshold=3, decision_minutes=2, approval_minutes=5,
                 scale_up_minutes=4, database_switch_minutes=3, outbox=True, dns=True, rto_objective_minutes=15)
    return plan_time(**(terms | overrides))


def test_the_plans_rto_adds_detection_approval_the_old_outbox_the_slowest_parallel_step_and_dns():
    estimate = _plan()
    # 30 s checks + 120 s decision, 300 s approval, 60 s stop, max(240, 180, 60), 30 s checks + 60 s TTL.
    assert estimate.total_seconds == 150 + 300 + 60 + 240 + 90 == 840
    assert estimate.meets_objective and estimate.costliest.step == "approval"


def test_a_slow_database_only_counts_when_it_is_slower_than_the_scale_up():
    assert _plan(database_switch_minutes=4).total_seconds == 840
    assert _plan(database_switch_minutes=6, rto_objective_minutes=20).total_seconds == 840 + 120


def test_a_plan_over_its_objective_is_a_config_error_naming_the_costliest_step_and_its_key():
    with pytest.raises(FailoverConfigError) as error:
        _plan(scale_up_minutes=9)
    message = str(error.value)
    assert "= 1140 s (19.0 min, objective 15 min)" in message
    assert "the costliest step is scale-up (540 s): lower microservices-foundation:failover.scaleUpMinutes" in message


def test_without_approval_database_outbox_or_dns_those_terms_are_absent():
    estimate = _plan(approval_minutes=None, database_switch_minutes=None, outbox=False, dns=False)
    assert [t.step for t in estimate.terms] == ["detection", "scale-up"]
    assert estimate.summary() == "detection 150 s + scale-up 240 s = 390 s (6.5 min, objective 15 min)"


def test_the_rpo_bound_names_what_enforces_it():
    from foundation.rto import RpoBound

    assert RpoBound(60, 60).summary() == ("switchover (graceful) 0 s; failover (ungraceful): Aurora <= 60 s "
                                          "(rds.global_db_rpo, enforced); DynamoDB replication latency alarmed "
                                          "above 60 s (not enforced)")
    assert "nothing is replicated" in RpoBound(None, None).summary()
