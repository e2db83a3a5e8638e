"""The failover time the Route 53 wiring implies, and the objective it must meet."""

import pytest

from foundation.rto import (DEFAULT_RECOVERY_TIME_OBJECTIVE_SECONDS, TARGET_RECOVERY_TIME_OBJECTIVE_SECONDS,
                            FailoverConfigError, FailoverConfigKeys, failover_time)


def test_fast_checks_with_three_failures_take_thirty_seconds_to_detect_plus_the_sixty_second_alias_ttl():
    estimate = failover_time(10, 3, TARGET_RECOVERY_TIME_OBJECTIVE_SECONDS)

    assert (estimate.detection_seconds, estimate.dns_ttl_seconds, estimate.total_seconds) == (30, 60, 90)
    assert estimate.summary() == "detection 30 s + DNS TTL 60 s = 90 s (objective 120 s)"


def test_standard_interval_meets_the_default_fifteen_minute_objective_but_not_the_two_minute_target():
    assert DEFAULT_RECOVERY_TIME_OBJECTIVE_SECONDS == 900
    assert failover_time(30, 3).total_seconds == 150

    with pytest.raises(FailoverConfigError) as error:
        failover_time(30, 3, TARGET_RECOVERY_TIME_OBJECTIVE_SECONDS)

    message = str(error.value)
    assert "detection 90 s + DNS TTL 60 s = 150 s (objective 120 s)" in message
    for key in ("failover.healthCheckIntervalSeconds", "failover.healthCheckFailureThreshold",
                "failover.recoveryTimeObjectiveSeconds"):
        assert key in message


def test_failing_objective_names_the_keys_the_caller_reads_the_settings_from():
    keys = FailoverConfigKeys(request_interval="dns:interval", failure_threshold="dns:threshold",
                              recovery_time_objective="dr:rtoSeconds")
    with pytest.raises(FailoverConfigError, match=r"dns:interval.*dns:threshold.*dr:rtoSeconds"):
        failover_time(10, 10, 120, keys=keys)  # 100 s detection + 60 s TTL


@pytest.mark.parametrize("interval, threshold", [(15, 3), (0, 3), (10, 0), (10, 11), (30, 2.5)])
def test_values_route53_rejects_are_refused_with_the_key_named(interval, threshold):
    with pytest.raises(FailoverConfigError, match="failover.healthCheck"):
        failover_time(interval, threshold)


@pytest.mark.parametrize("objective", [0, -60, 120.5])
def test_objective_must_be_a_positive_whole_number_of_seconds(objective):
    with pytest.raises(FailoverConfigError, match="failover.recoveryTimeObjectiveSeconds"):
        failover_time(10, 3, objective)
