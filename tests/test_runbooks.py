"""Every `aws` call in the runbooks' bash blocks names a real service, operation (or waiter) and real
parameters, and passes the operation's required parameters, judged by botocore's service models."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import DataNotFoundError

RUNBOOKS = Path(__file__).resolve().parent.parent / "docs" / "runbooks"
REQUIRED_RUNBOOKS = {"canary-promote-abort.md", "failover-drill.md", "dead-letter-redrive.md",
                     "secret-rotation.md", "quota-raise.md", "incident-triage.md", "strangler-migration-step.md",
                     "region-failover.md"}

# Options of the CLI itself, valid on every command; the value says whether the option takes a value.
GLOBAL_OPTIONS = {"region": True, "profile": True, "output": True, "query": True, "endpoint-url": True,
                  "no-cli-pager": False, "debug": False, "no-paginate": False, "no-verify-ssl": False,
                  "cli-read-timeout": True, "cli-connect-timeout": True, "color": True,
                  "cli-binary-format": True, "no-sign-request": False, "ca-bundle": True}
# The CLI adds these to operations botocore can paginate.
PAGINATION_OPTIONS = {"max-items", "starting-token", "page-size"}
# CLI command names that differ from botocore's service names.
CLI_SERVICE_NAMES = {"s3api": "s3", "configservice": "config"}
# Commands the CLI implements itself, with no botocore operation of that name to check against.
# (service, command) -> why it is skipped.
CLI_CUSTOMIZATIONS = {
    ("s3", "cp"): "high-level S3 transfer command of the CLI (many API calls)",
    ("s3", "sync"): "high-level S3 transfer command of the CLI",
    ("s3", "ls"): "high-level S3 listing command of the CLI",
    ("ecr", "get-login-password"): "CLI customization: prints the token of GetAuthorizationToken",
    ("logs", "tail"): "CLI v2 customization over FilterLogEvents",
}
OPERATORS = {"|", "||", "&&", ";", "(", ")", "&"}
COMMAND_PREFIXES = {"if", "then", "!", "while", "until", "do", "else"}


@dataclass(frozen=True)
class AwsCall:
    where: str
    argv: tuple[str, ...]


def aws_calls(text: str, where: str) -> list[AwsCall]:
    """The `aws ...` commands of every ```bash block, command substitutions and pipelines included."""
    calls = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for _number, line in enumerate(re.sub(r"\\\n\s*", " ", block).splitlines(), 1):
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
            at_start = True
            for index, token in enumerate(tokens):
                if token in OPERATORS:
                    at_start = True
                    continue
                if at_start and token in COMMAND_PREFIXES:
                    continue
                if at_start and token == "aws":
                    end = next((i for i in range(index + 1, len(tokens)) if tokens[i] in OPERATORS), len(tokens))
                    calls.append(AwsCall(f"{where}: {line.strip()[:80]}", tuple(tokens[index + 1:end])))
                at_start = token.endswith("$") and token != "$"  # `VAR=$(` splits into `VAR=$`, `(`
    return calls


@cache
def _session():
    return botocore.session.get_session()


def problems_of(call: AwsCall) -> list[str]:
    """Why the call would not parse (an empty list: it would), or a skip note for CLI customizations."""
    args = list(call.argv)
    while args and args[0].startswith("--"):  # global options before the service
        option = args.pop(0)[2:]
        if option not in GLOBAL_OPTIONS:
            return [f"unknown global option --{option}"]
        if GLOBAL_OPTIONS[option]:
            args.pop(0)
    if len(args) < 2:
        return [f"'aws {' '.join(call.argv)}' names no service and operation"]
    cli_service, command, rest = args[0], args[1], args[2:]
    if (cli_service, command) in CLI_CUSTOMIZATIONS:
        return []
    service = CLI_SERVICE_NAMES.get(cli_service, cli_service)
    session = _session()
    if service not in session.get_available_services():
        return [f"no AWS service '{cli_service}'"]
    model = session.get_service_model(service)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if command == "wait":
        waiter_model = session.get_waiter_model(service)
        waiters = {xform_name(name, "-"): name for name in waiter_model.waiter_names}
        if not rest or rest[0] not in waiters:
            return [f"'aws {cli_service} wait' has no waiter {rest[:1]}; known: {sorted(waiters)}"]
        operation = waiter_model.get_waiter(waiters[rest[0]]).operation
        rest = rest[1:]
        paginated = False
    else:
        if command not in operations:
            return [f"'aws {cli_service}' has no operation '{command}'"]
        operation = operations[command]
        paginated = _paginated(service, operation)
    shape = model.operation_model(operation).input_shape
    members = {xform_name(name, "-"): member for name, member in (shape.members.items() if shape else [])}
    required = {xform_name(name, "-") for name in (shape.required_members if shape else [])}
    given: set[str] = set()
    problems = []
    for token in rest:
        if not token.startswith("--"):
            continue
        option = token[2:].split("=", 1)[0]
        if option in GLOBAL_OPTIONS or (paginated and option in PAGINATION_OPTIONS):
            continue
        if option in members:
            given.add(option)
        elif option.startswith("no-") and option[3:] in members and members[option[3:]].type_name == "boolean":
            given.add(option[3:])
        else:
            problems.append(f"'aws {cli_service} {command}' ({operation}) has no parameter --{option}")
    missing = required - given
    if missing:
        problems.append(f"'aws {cli_service} {command}' ({operation}) lacks required {sorted(missing)}")
    return problems


def _paginated(service: str, operation: str) -> bool:
    try:
        _session().get_paginator_model(service).get_paginator(operation)
    except (DataNotFoundError, ValueError):  # no paginators for the service / none for the operation
        return False
    return True


def _all_calls() -> list[AwsCall]:
    return [call for path in sorted(RUNBOOKS.glob("*.md"))
            for call in aws_calls(path.read_text(), path.name)]


def test_every_runbook_the_platform_needs_exists_and_has_aws_calls():
    present = {p.name for p in RUNBOOKS.glob("*.md")}
    assert present >= REQUIRED_RUNBOOKS
    with_calls = {call.where.split(":")[0] for call in _all_calls()}
    assert with_calls >= REQUIRED_RUNBOOKS


def test_every_aws_call_in_the_runbooks_exists_in_botocore_with_its_parameters():
    calls = _all_calls()
    assert len(calls) > 40
    problems = [f"{call.where}: {problem}" for call in calls for problem in problems_of(call)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("snippet, expected", [
    ("aws ecs update-service --cluster c --service s --force-new-deployment", []),
    ("aws route53 update-health-check --health-check-id x --no-inverted", []),
    ("X=$(aws ecs wait services-stable --cluster c --services s)", []),
    ("aws s3 cp a s3://b/a", []),
    ("aws ecs update-service --cluster c --service s --force-deploy",
     ["'aws ecs update-service' (UpdateService) has no parameter --force-deploy"]),
    ("aws ecs restart-service --cluster c", ["'aws ecs' has no operation 'restart-service'"]),
    ("aws ecs wait service-stable --cluster c", None),
    ("aws sqs start-message-move-task --region r", ["'aws sqs start-message-move-task' (StartMessageMoveTask) lacks "
                                                    "required ['source-arn']"]),
    ("echo 'aws ecs nothing' | grep aws", []),
])
def test_the_checker_rejects_unknown_operations_parameters_and_missing_required_ones(snippet, expected):
    calls = aws_calls(f"```bash\n{snippet}\n```", "snippet")
    found = [p for call in calls for p in problems_of(call)]
    if expected is None:
        assert found and "no waiter" in found[0]
    else:
        assert found == expected
    assert ("echo" in snippet) == (not calls)


def test_the_failover_runbooks_run_the_region_switch_plan_from_the_region_they_activate():
    for name in ("failover-drill.md", "region-failover.md"):
        calls = [c for c in _all_calls() if c.where.startswith(name) and c.argv[:2] == ("arc-region-switch",
                                                                                      "start-plan-execution")]
        assert calls, f"{name} starts no Region switch plan execution"
        for call in calls:
            argv = list(call.argv)
            assert argv[argv.index("--region") + 1] == argv[argv.index("--target-region") + 1] or \
                argv[argv.index("--action") + 1] == "postRecovery", call.where
