"""AWS limits shared by the components and the settings loader: each rule lives here once.

A component validates its own arguments through these helpers, and `foundation.settings` reports the
same rule against the config key that carries the value, so a value AWS would refuse is a config error
and never an exception from inside a component (docs/validation.md). Each helper returns a problem
description or None (or a list of them), so callers raise whatever error type fits where they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from components.core.types import ENVIRONMENTS

# --- names -------------------------------------------------------------------------------------

# Target groups are named "<environment>-<service>-a|b", and CreateTargetGroup allows at most 32 letters,
# digits or hyphens, no hyphen at either end; the longest environment sets the service name's budget.
# The name is also the Service Connect discovery name, the ECS service name and part of the Aurora
# cluster identifier (no two consecutive hyphens), so it is held to the narrowest of these rules.
TARGET_GROUP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
SERVICE_NAME_MAX_LENGTH = 32 - len("-a") - max(len(f"{e}-") for e in ENVIRONMENTS)
SERVICE_NAME = re.compile(rf"^(?!.*--)[a-z](?:[a-z0-9-]{{0,{SERVICE_NAME_MAX_LENGTH - 2}}}[a-z0-9])?$")

# An image as a stack names it: a tag in the service's own repository, or a digest. A tag is at most 128
# characters (Docker reference grammar); `latest` is refused because it makes deployments unrepeatable.
IMAGE_REFERENCE = re.compile(r"^(sha256:[a-f0-9]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")
# A full image URI with a tag or digest (what a task definition receives).
IMAGE_URI = re.compile(r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")
# The private ECR registry of an account and region, with the repository and a tag or digest: the only
# registry a task's image may come from, since the ecr.api/ecr.dkr endpoints reach it without NAT.
PRIVATE_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repository>[a-z0-9._/-]+)"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")

# ALB path patterns: "The maximum size of each string is 128 characters" (PathPatternConfig); a service's
# rule matches `<prefix>` and `<prefix>/*`. No `..` or `//`: a prefix is a plain path.
PATH_PREFIX = re.compile(r"^(?!.*//)(?!.*\.\.)/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$")
PATH_PATTERN_MAX_LENGTH = 128
HEALTH_PATH = re.compile(r"^(?!.*//)(?!.*\.\.)/[A-Za-z0-9/_.-]*$")
# ECS: "Each name and port pair must be unique"; dnsName allows lowercase letters, digits, '_', '-', '.'.
DNS_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,126}$")
# Environment variable names (container definitions, SSM-backed config keys).
ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# PutParameter: "Standard tier parameters support a maximum parameter value of 4096 characters".
SSM_STANDARD_VALUE_MAX_CHARACTERS = 4096


def service_name_problem(name: str) -> str | None:
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        return (f"a service name is 1-{SERVICE_NAME_MAX_LENGTH} lowercase letters, digits or single hyphens, "
                f"starting with a letter and not ending with a hyphen (target group names "
                f"'<environment>-<service>-a' stay within 32 characters)")
    return None


def health_path_problem(path: str) -> str | None:
    if not HEALTH_PATH.fullmatch(path) or len(path) > 1024:
        return "a health path looks like /health: up to 1024 of A-Z a-z 0-9 / _ . -, no '//' or '..'"
    return None


def image_reference_problem(reference: str) -> str | None:
    if not IMAGE_REFERENCE.fullmatch(reference):
        return "an image is a tag (up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -) or sha256:<64 hex>"
    if reference == "latest":
        return "the mutable 'latest' tag is not deployable; name a release tag or a digest"
    return None


def path_prefix_problem(prefix: str) -> str | None:
    if not PATH_PREFIX.fullmatch(prefix):
        return "a path prefix looks like /api/auth: no trailing slash, no '//' or '..'"
    if len(f"{prefix}/*") > PATH_PATTERN_MAX_LENGTH:
        return (f"the listener rule pattern '{prefix}/*' must stay within {PATH_PATTERN_MAX_LENGTH} characters "
                f"(prefix at most {PATH_PATTERN_MAX_LENGTH - 2})")
    return None


def plain_config_problem(key: str, value: str) -> str | None:
    if not ENV_KEY.fullmatch(key):
        return f"config key {key!r} must be an environment variable name ({ENV_KEY.pattern})"
    if not value:
        return f"config key {key!r} is empty; SSM parameters cannot hold an empty value"
    if len(value) > SSM_STANDARD_VALUE_MAX_CHARACTERS:
        return (f"config key {key!r} holds more than {SSM_STANDARD_VALUE_MAX_CHARACTERS} characters, the limit "
                "of a Standard SSM parameter")
    return None


def secret_env_name(secret: str) -> str:
    """The environment variable a secret is injected as: `jwt-signing-key` -> `JWT_SIGNING_KEY`."""
    return secret.upper().replace("-", "_")


def config_secret_clash_problem(config_keys: Iterable[str], secrets: Iterable[str]) -> str | None:
    """A task definition cannot hold one environment variable twice (plain config and secret both use
    `secrets`/`valueFrom`); RegisterTaskDefinition refuses the duplicate name."""
    clashes = sorted(set(config_keys) & {secret_env_name(s) for s in secrets})
    if clashes:
        return f"{clashes} would be both a config key and a secret's environment variable; rename one"
    return None


def raise_problem(problem: str | None) -> None:
    """For pydantic AfterValidators and dataclass __post_init__: a problem becomes a ValueError."""
    if problem:
        raise ValueError(problem)


# --- numbers -----------------------------------------------------------------------------------

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
LOG_RETENTION_DAYS = frozenset({1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                                2192, 2557, 2922, 3288, 3653})


def is_multiple_of_tenth(value: float) -> bool:
    """ECS canaryPercent and stepPercent take one decimal place (API_CanaryConfiguration,
    API_LinearConfiguration)."""
    return abs(round(value * 10) - value * 10) < 1e-9


def task_count_problem(min_tasks: int, max_tasks: int, lowest: int = 1) -> str | None:
    # lowest 0 only in a standby (pilot light): the Region switch plan raises it; max stays at least 1.
    if not lowest <= min_tasks <= max_tasks or max_tasks < 1:
        return f"task counts need {lowest} <= minTasks ({min_tasks}) <= maxTasks ({max_tasks}), maxTasks >= 1"
    return None


def log_retention_problem(days: int) -> str | None:
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


# FunctionName: 1-64 letters, digits, '-' and '_' (Lambda CreateFunction); the platform's small functions
# (the staging scale-down, the Region switch actions) are named within it.
LAMBDA_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
