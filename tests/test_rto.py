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
