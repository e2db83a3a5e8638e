"""The resilience policy of a service's outbound calls (catalog `client` block), delivered to the app as
environment variables that templates/service/app/client.py reads. One home for the names and the seeds'
defaults: 3 tries, full-jitter backoff 25-250 ms, retries on 502/503/504, a breaker that opens above 50 %
failures in 30 s (at least 10 calls) and probes again after 30 s."""

from __future__ import annotations

from dataclasses import dataclass

MAX_ATTEMPTS_RANGE = (1, 5)
BACKOFF_MS_RANGE = (1, 10_000)


@dataclass(frozen=True)
class ClientPolicy:
    max_attempts: int = 3
    backoff_min_ms: int = 25
    backoff_max_ms: int = 250
    per_try_timeout_ms: int = 1000
    retry_statuses: tuple[int, ...] = (502, 503, 504)
    breaker_failure_percent: int = 50
    breaker_min_requests: int = 10
    breaker_window_seconds: int = 30
    breaker_cooldown_seconds: int = 30

    def __post_init__(self) -> None:
        problems = client_policy_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    def environment(self, http_client_timeout_seconds: int, request_timeout_seconds: int) -> dict[str, str]:
        """Everything app/client.py reads; the two timeouts are the stack's Service Connect values."""
        return {
            "CLIENT_MAX_ATTEMPTS": str(self.max_attempts),
            "CLIENT_BACKOFF_MIN_MS": str(self.backoff_min_ms),
            "CLIENT_BACKOFF_MAX_MS": str(self.backoff_max_ms),
            "CLIENT_PER_TRY_TIMEOUT_MS": str(self.per_try_timeout_ms),
            "CLIENT_RETRY_STATUSES": ",".join(str(s) for s in self.retry_statuses),
            "CLIENT_BREAKER_FAILURE_PERCENT": str(self.breaker_failure_percent),
            "CLIENT_BREAKER_MIN_REQUESTS": str(self.breaker_min_requests),
            "CLIENT_BREAKER_WINDOW_SECONDS": str(self.breaker_window_seconds),
            "CLIENT_BREAKER_COOLDOWN_SECONDS": str(self.breaker_cooldown_seconds),
            "HTTP_CLIENT_TIMEOUT_SECONDS": str(http_client_timeout_seconds),
            "SERVICE_REQUEST_TIMEOUT_SECONDS": str(request_timeout_seconds),
        }


def client_policy_problems(policy: ClientPolicy, http_client_timeout_seconds: int | None = None) -> list[str]:
    problems = []
    low, high = MAX_ATTEMPTS_RANGE
    if not low <= policy.max_attempts <= high:
        problems.append(f"maxAttempts {policy.max_attempts} must be within {low}..{high}")
    low, high = BACKOFF_MS_RANGE
    if not low <= policy.backoff_min_ms <= policy.backoff_max_ms <= high:
        problems.append(f"backoff must satisfy {low} <= backoffMinMs ({policy.backoff_min_ms}) <= backoffMaxMs "
                        f"({policy.backoff_max_ms}) <= {high}")
    if not policy.retry_statuses or any(not 500 <= s <= 599 for s in policy.retry_statuses):
        problems.append(f"retryStatuses {list(policy.retry_statuses)} must be 5xx codes (a 4xx is the caller's error)")
    if len(set(policy.retry_statuses)) != len(policy.retry_statuses):
        problems.append(f"retryStatuses {list(policy.retry_statuses)} lists a code twice")
    if not 1 <= policy.breaker_failure_percent <= 100:
        problems.append(f"breakerFailurePercent {policy.breaker_failure_percent} must be within 1..100")
    for label, value in (("breakerMinRequests", policy.breaker_min_requests),
                         ("breakerWindowSeconds", policy.breaker_window_seconds),
                         ("breakerCooldownSeconds", policy.breaker_cooldown_seconds)):
        if not 1 <= value <= 3600:
            problems.append(f"{label} {value} must be within 1..3600")
    if policy.per_try_timeout_ms < 1:
        problems.append(f"perTryTimeoutMs {policy.per_try_timeout_ms} must be positive")
    if http_client_timeout_seconds is not None and policy.per_try_timeout_ms > 1000 * http_client_timeout_seconds:
        problems.append(f"perTryTimeoutMs {policy.per_try_timeout_ms} must not exceed the stack's client timeout "
                        f"(serviceConnect.clientTimeoutSeconds = {http_client_timeout_seconds} s): every try "
                        "runs inside the overall timeout")
    return problems
