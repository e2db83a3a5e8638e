"""Argument checks shared by the components and the settings loader.

Each rule lives here once. A component validates its own arguments through these helpers, and
`foundation/settings.py` can report the same rule against config keys without keeping a copy. Each
helper returns a problem description or None (or a list of them), so callers can raise whatever error
type fits where they are.
"""

from __future__ import annotations

from typing import Optional

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = frozenset({1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                                2192, 2557, 2922, 3288, 3653})


def is_multiple_of_tenth(value: float) -> bool:
    """ECS canaryPercent and stepPercent take one decimal place (API_CanaryConfiguration,
    API_LinearConfiguration)."""
    return abs(round(value * 10) - value * 10) < 1e-9


def task_count_problem(min_tasks: int, max_tasks: int) -> Optional[str]:
    if not 1 <= min_tasks <= max_tasks:
        return f"task counts need 1 <= minTasks ({min_tasks}) <= maxTasks ({max_tasks})"
    return None


def log_retention_problem(days: int) -> Optional[str]:
    if days not in LOG_RETENTION_DAYS:
        return (f"log retention {days} days is not a CloudWatch Logs retention period "
                f"{sorted(LOG_RETENTION_DAYS)}")
    return None


def timeout_problems(client_seconds: int, per_request_seconds: int, idle_seconds: int) -> list[str]:
    """The app's HTTP client gives up first, then the Service Connect proxy per request, then the proxy's
    idle connection. 0 disables a Service Connect timeout (API_TimeoutConfiguration), which leaves nothing
    to nest under."""
    problems = []
    if not 0 <= per_request_seconds <= 2147483647 or not 0 <= idle_seconds <= 2147483647:
        problems.append("Service Connect timeouts must be within 0..2147483647 seconds (0 disables)")
    if idle_seconds and per_request_seconds and idle_seconds <= per_request_seconds:
        problems.append(f"idle timeout {idle_seconds}s must be longer than the per-request timeout "
                        f"{per_request_seconds}s: connections would close at the idle timeout")
    if per_request_seconds and not 0 < client_seconds < per_request_seconds:
        # The client must see its own timeout (and can retry or fail fast) instead of a 504 from the proxy
        # for a request it is still waiting on.
        problems.append(f"HTTP client timeout {client_seconds}s must be lower than the Service Connect "
                        f"per-request timeout {per_request_seconds}s")
    return problems
