"""No credentials in plain environments, wherever a workload's environment is written.

``container-env-no-secrets`` reads every place the platform's resources can carry a plain environment:
ECS task definitions' containers, Lambda functions, Batch job definitions (``containerProperties``,
``ecsProperties``), App Runner services (runtime environment variables), CodeBuild projects (PLAINTEXT
environment variables) and EC2 user data (launch templates and instances, base64 or plain: ``NAME=value``
lines and the whole script).

A credential is found by its value whatever the variable is called (``secretValuePatterns``: connection strings
and URLs with a password, tokens in query strings, AWS access key ids, private keys, bearer/basic tokens, JWTs,
GitHub/Slack/Stripe/Google keys; and any long random-looking key, e.g. a base64 secret) and by the variable's
name (``secretNamePatterns``) when it holds a literal. A name that ends in a qualifier (``TOKEN_TTL_SECONDS``,
``PASSWORD_MIN_LENGTH``, ``API_KEY_HEADER``) describes a setting, not a secret, and a value that only
references a secret (an ARN, ``{{resolve:...}}``, ``${VAR}``) is no credential.

Unknown values: an unknown environment is deferred to ``pulumi up``; an unknown value is judged by its
variable's name and otherwise deferred (its value cannot be checked for a credential yet).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .ecs_containers import TASK_DEFINITION, container_definitions, container_label
from .framework import CannotJudge, Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import DocumentError, as_list, get_path, is_unknown, parse_json_document

LAMBDA_FUNCTION = "aws:lambda/function:Function"
BATCH_JOB = "aws:batch/jobDefinition:JobDefinition"
APP_RUNNER = "aws:apprunner/service:Service"
CODEBUILD = "aws:codebuild/project:Project"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
INSTANCE = "aws:ec2/instance:Instance"

# Values that are credentials whatever the variable is called.
SECRET_VALUE_PATTERNS = [
    # scheme://user:password@host (user may be empty: redis://:password@host); a password that starts like a template (${X}, %s, {x}, <x>) is not one
    r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:(?![$%{<])[^/\s@]+@",
    # key=value connection strings (ADO.NET, JDBC query strings): Password=..., pwd=...
    r"(?i)(?:^|[;&?\s])(?:password|passwd|pwd)\s*=\s*(?![$%{<;&\s])[^;&\s]+",
    # tokens in URL query strings: ?access_token=..., &api_key=..., &sig=...
    r"(?i)[?&](?:access_token|token|api_?key|apikey|secret|client_secret|password|sig|signature)=(?![$%{<])[^&\s]{8,}",
    # JSON configuration passed as one value: {"password": "..."}, {"client_secret": "..."}
    r"(?i)[\"'](?:password|passwd|pwd|secret|client_secret|api_?key|access_?token)[\"']\s*:\s*[\"'](?![$%{<])[^\"']{4,}[\"']",
    r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/-]{16,}=*",
    r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",
    r"\bAIza[0-9A-Za-z_-]{35}",
]

# The last word of a variable name that makes it a setting about a secret, not the secret itself.
QUALIFIERS = frozenset({
    "TTL", "SECONDS", "SECS", "SEC", "MS", "MILLIS", "MINUTES", "MINS", "HOURS", "DAYS", "TIMEOUT", "EXPIRY",
    "EXPIRES", "EXPIRATION", "LIFETIME", "AGE", "LENGTH", "LEN", "SIZE", "BYTES", "BITS", "COUNT", "LIMIT", "MAX",
    "MIN", "RETRIES", "ENABLED", "DISABLED", "ENABLE", "DISABLE", "REQUIRED", "HEADER", "NAME", "ID", "ARN", "URL",
    "URI", "ENDPOINT", "PATH", "FILE", "DIR", "TYPE", "MODE", "REGION", "FORMAT", "ALGORITHM", "ALG", "ISSUER",
    "AUDIENCE", "VERSION", "PREFIX", "FIELD", "PARAM", "LOCATION", "STORE", "PROVIDER", "POLICY", "ROTATION",
})
_REFERENCE = re.compile(r"^(?:arn:|\{\{resolve:|\$\{[^}]*\}$|\$[A-Z_][A-Z0-9_]*$|<[^>]*>$|%\(?\w+\)?s?$)")
_KEY_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-.]{24,}$")


def _looks_like_key(value: str) -> bool:
    """A long random-looking token (base64, hex-and-case keys): mixed case, digits and high entropy. Names,
    ids, hostnames and digests (lower case, or with separators every few characters) are not."""
    text = value.strip()
    if not _KEY_CHARS.match(text) or text.startswith(("arn:", "sha256:")):
        return False
    if not (any(c.isupper() for c in text) and any(c.islower() for c in text) and any(c.isdigit() for c in text)):
        return False
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return entropy >= 4.0


def _only_references(upper_name: str, value: Any, allowed_name_patterns: re.Pattern[str]) -> bool:
    """Whether an allowed name (``*_ARN``, ``*_SECRET_ID`` ...) exempts the variable: a name that says it
    holds an ARN must hold one, so ``DB_PASSWORD_ARN=hunter2`` is not exempt."""
    if allowed_name_patterns.match(upper_name) is None:
        return False
    if upper_name.endswith("_ARN") and isinstance(value, str) and not is_unknown(value):
        return value.startswith("arn:") or not value.strip()
    return True


def _json(value: Any, prop: str) -> Any:
    try:
        return parse_json_document(value)
    except DocumentError as error:
        raise CannotJudge(prop, f"cannot be parsed ({error})") from None


def _pairs(owner: str, variables: Any) -> list[tuple[str, Any, Any]]:
    """(owner, name, value) of a ``{name: value}`` map or a ``[{name, value}]`` list."""
    if is_unknown(variables):
        raise NotJudged(f"{owner}: the environment is unknown during preview; deferred to `pulumi up`")
    if isinstance(variables, Mapping):
        return [(owner, name, value) for name, value in variables.items()]
    return [(owner, v.get("name"), v.get("value")) for v in as_list(variables) if isinstance(v, Mapping)
            and str(v.get("type", "PLAINTEXT")).upper() == "PLAINTEXT"]


def _user_data(owner: str, value: Any) -> list[tuple[str, Any, Any]]:
    """``NAME=value`` lines of a user-data script (base64 or plain), and the whole script as one value."""
    if value is None:
        return []
    if is_unknown(value):
        raise NotJudged(f"{owner} is unknown during preview; deferred to `pulumi up`")
    text = str(value)
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
        text = decoded
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    found: list[tuple[str, Any, Any]] = [(owner, "(the script)", text)]
    for line in text.splitlines():
        match = re.match(r"^\s*(?:export\s+|set\s+|ENV\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if match:
            found.append((owner, match.group(1), match.group(2).strip("'\"")))
    return found


def environment_variables(resource: ResourceView) -> list[tuple[str, Any, Any]]:
    """(owner, name, value) of every plain environment variable the resource writes."""
    props = resource.props
    if resource.type == LAMBDA_FUNCTION:
        return _pairs("the function", get_path(props, "environment", "variables") or {})
    if resource.type == BATCH_JOB:
        found: list[tuple[str, Any, Any]] = []
        container = props.get("containerProperties")
        if container is not None:
            found += _pairs("the job's container", get_path(_json(container, "containerProperties"), "environment"))
        ecs = props.get("ecsProperties")
        if ecs is not None:
            for task in as_list(get_path(_json(ecs, "ecsProperties"), "taskProperties")):
                for index, c in enumerate(as_list(get_path(task, "containers"))):
                    found += _pairs(container_label(c, index) if isinstance(c, Mapping) else "a container",
                                    get_path(c, "environment"))
        return found
    if resource.type == APP_RUNNER:
        image = get_path(props, "sourceConfiguration", "imageRepository", "imageConfiguration",
                         "runtimeEnvironmentVariables")
        code = get_path(props, "sourceConfiguration", "codeRepository", "codeConfiguration",
                        "codeConfigurationValues", "runtimeEnvironmentVariables")
        return _pairs("the service", image or {}) + _pairs("the service", code or {})
    if resource.type == CODEBUILD:
        return _pairs("the build", get_path(props, "environment", "environmentVariables") or [])
    if resource.type in (LAUNCH_TEMPLATE, INSTANCE):
        return _user_data("userData", props.get("userData")) + _user_data("userDataBase64", props.get("userDataBase64"))
    return [(container_label(container, index), variable.get("name"), variable.get("value"))
            for index, container in enumerate(container_definitions(resource))
            for variable in as_list(container.get("environment")) if isinstance(variable, Mapping)]


def _secret_name(upper: str, name_patterns: re.Pattern[str]) -> bool:
    words = [w for w in _WORD_BREAK.split(upper) if w]
    if words and words[-1] in QUALIFIERS and words[-1] != "ARN":  # an *_ARN must hold an ARN (_only_references)
        return False
    return name_patterns.match(upper) is not None


_WORD_BREAK = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True)
class _Patterns:
    """The policy's pattern knobs compiled, once per config rather than once per variable: the value patterns in
    their order (the first that matches is named), and each list of name globs as one expression that matches
    where any of its globs does (``fnmatchcase``, upper-cased)."""

    values: tuple[re.Pattern[str], ...]
    secret_names: re.Pattern[str]
    allowed_names: re.Pattern[str]


def _globs(patterns: Iterable[Any]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(str(p).upper())})" for p in patterns) or "(?!)")


_last_patterns: tuple[Mapping[str, Any], list[Any], list[Any], list[Any], _Patterns] | None = None


def _patterns(config: Mapping[str, Any]) -> _Patterns:
    """The compiled knobs of ``config``; the framework hands every call the same config until the next Configure,
    and the entry also holds the three lists it was compiled from (a config edited in place compiles again)."""
    global _last_patterns
    cached = _last_patterns
    knobs = (config["secretValuePatterns"], config["secretNamePatterns"], config["allowedNamePatterns"])
    if cached is not None and cached[0] is config and list(cached[1:4]) == [list(k) for k in knobs]:
        return cached[4]
    compiled = _Patterns(tuple(re.compile(str(p)) for p in knobs[0]), _globs(knobs[1]), _globs(knobs[2]))
    _last_patterns = (config, list(knobs[0]), list(knobs[1]), list(knobs[2]), compiled)
    return compiled


def _reasons(name: str, value: Any, patterns: _Patterns) -> Iterable[str]:
    known = isinstance(value, str) and not is_unknown(value)
    pattern = next((p for p in patterns.values if known and p.search(value)), None)
    if pattern is not None:
        yield f"its value looks like a credential (matches /{pattern.pattern}/)"
        return
    if known and name != "(the script)" and _looks_like_key(value):
        yield "its value looks like a random key (long, mixed case and digits, high entropy)"
        return
    upper = name.upper()
    if name == "(the script)" or not _secret_name(upper, patterns.secret_names):
        return
    if _only_references(upper, value, patterns.allowed_names):
        return
    literal = value if isinstance(value, str) else (None if value is None or is_unknown(value) else str(value))
    if literal is not None and literal.strip() and not _REFERENCE.match(literal.strip()):
        yield "its name says it holds a secret and its value is a literal"


def check_environment_secrets(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    patterns = _patterns(config)
    findings = []
    for owner, name, value in environment_variables(resource):
        if not isinstance(name, str):
            continue
        reasons = list(_reasons(name, value, patterns))
        if not reasons and is_unknown(value):
            findings.append(deferred(f"{owner}: the value of environment variable '{name}' is unknown during "
                                     "preview, so it cannot be checked for a credential"))
        for reason in reasons:
            what = owner if name == "(the script)" else f"{owner} passes environment variable '{name}' in plain text;"
            findings.append(Finding(
                f"{what} {reason}. Plain environment values are visible to anyone who can describe the resource. "
                "Move it to Secrets Manager or SSM and reference it (\"secrets\": [{\"name\": ..., \"valueFrom\": "
                "<ARN>}] for ECS, a SECRETS_MANAGER variable for CodeBuild, a runtime secret for App Runner)."))
    return findings


CONTAINER_ENV_NO_SECRETS = PolicySpec(
    name="container-env-no-secrets",
    description="Plain environments (ECS containers, Lambda, Batch, App Runner, CodeBuild, EC2 user data) carry no "
                "credentials, judged by value and by name; secrets come from Secrets Manager/SSM.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="Move the value to Secrets Manager or SSM Parameter Store and reference it (\"secrets\" with "
                "valueFrom for ECS).",
    unknowns="Unknown environments are deferred to `pulumi up`; an unknown value is judged by its variable's name "
             "and otherwise deferred.",
    check=check_environment_secrets,
    resource_types=TASK_DEFINITION | {LAMBDA_FUNCTION, BATCH_JOB, APP_RUNNER, CODEBUILD, LAUNCH_TEMPLATE, INSTANCE},
    config={
        "secretNamePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": ["*PASSWORD*", "*PASSWD*", "*PWD", "*SECRET*", "*TOKEN*", "*API_KEY*", "*APIKEY*",
                        "*PRIVATE_KEY*", "*ACCESS_KEY*", "*CREDENTIAL*", "*PASSPHRASE*", "*SIGNING_KEY*"],
            "description": "Case-insensitive globs of variable names that hold secrets (a name ending in a "
                           "qualifier such as _TTL_SECONDS is a setting, not a secret).",
        },
        "allowedNamePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": ["*_ARN", "*_SECRET_ID", "*_SECRET_NAME", "*TOKEN_URL", "*TOKEN_ENDPOINT"],
            "description": "Case-insensitive globs of names that only reference a secret and are allowed.",
        },
        "secretValuePatterns": {
            "type": "array", "items": {"type": "string"},
            "default": SECRET_VALUE_PATTERNS,
            "description": "Regular expressions of values that are credentials whatever the name "
                           "(connection strings and URLs with a password or token, AWS access key ids, private "
                           "keys, bearer/basic tokens, JWTs, GitHub/Slack/Stripe/Google keys).",
        },
    },
)
