"""The permission closure: every request a stack's deploy (and preview) makes, judged against the
role the bootstrap program gives that stack (docs/permission-closure.md)."""

from __future__ import annotations

import importlib
import json
import runpy
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from devkit.mocks import RecordedResource, Recorder, run_program
from devkit.permissions import iam
from devkit.permissions.calls import Operation
from devkit.permissions.requests import Expander, Records, Required, Undecidable

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "bootstrap"
BOOTSTRAP_PROJECT = "microservices-foundation-bootstrap"
BOOTSTRAP_STACK = "acme"
PROJECT = "microservices-foundation"

# What the program's invokes call in AWS (tokens the offline run records; an unknown token stops the
# closure). get_caller_identity (sts:GetCallerIdentity) needs no permission (STS API reference);
# getRegion/getPartition are answered from the provider's configuration.
INVOKES: Mapping[str, tuple[str, ...]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": (),
    "aws:index/getRegion:getRegion": (),
    "aws:index/getPartition:getPartition": (),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
    "aws:secretsmanager/getRandomPassword:getRandomPassword": ("secretsmanager:GetRandomPassword",),
}


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    identity: tuple[Mapping[str, Any], ...]
    boundary: Mapping[str, Any] | None


@dataclass(frozen=True)
class Gap:
    stack: str
    role: str
    resource: str
    type: str
    operation: str
    action: str
    arn: str
    region: str
    reason: str

    def __str__(self) -> str:
        return (f"{self.stack}: {self.role} cannot {self.action} on {self.arn} in {self.region} "
                f"({self.operation} of {self.type} {self.resource}): {self.reason}")


@dataclass
class Report:
    stack: str
    requests: int = 0
    gaps: list[Gap] = field(default_factory=list)
    undecidable: list[Undecidable] = field(default_factory=list)


def load_bootstrap_module() -> ModuleType:
    """bootstrap/ as `pulumi up` runs it: its folder on sys.path."""
    sys.path.insert(0, str(BOOTSTRAP))
    try:
        return importlib.import_module("delivery_access")
    finally:
        sys.path.remove(str(BOOTSTRAP))


def bootstrap_config() -> dict[str, str]:
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{BOOTSTRAP_STACK}.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_bootstrap(config: Mapping[str, str] | None = None) -> Recorder:
    def program() -> None:
        sys.path.insert(0, str(BOOTSTRAP))
        try:
            runpy.run_path(str(BOOTSTRAP / "__main__.py"))
        finally:
            sys.path.remove(str(BOOTSTRAP))
    recorder, _ = run_program(program, project=BOOTSTRAP_PROJECT, stack=BOOTSTRAP_STACK, region="eu-north-1",
                              config=dict(config or bootstrap_config()))
    return recorder


def _document(value: Any) -> Mapping[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def roles_of(bootstrap: Recorder) -> dict[str, Role]:
    """Each role the bootstrap registers with its identity policies and permissions boundary."""
    policies = {str(p.outputs["arn"]): p for p in bootstrap.of_type("aws:iam/policy:Policy")}
    roles: dict[str, Role] = {}
    for role in bootstrap.of_type("aws:iam/role:Role"):
        keys = {role.outputs.get("name"), role.outputs.get("id"), role.inputs.get("name")}
        identity = [_document(p.inputs["policy"]) for p in bootstrap.of_type("aws:iam/rolePolicy:RolePolicy")
                    if p.inputs.get("role") in keys]
        identity += [_document(policies[a.inputs["policyArn"]].inputs["policy"])
                     for a in bootstrap.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                     if a.inputs.get("role") in keys]
        boundary_arn = role.inputs.get("permissionsBoundary")
        boundary = _document(policies[boundary_arn].inputs["policy"]) if boundary_arn else None
        roles[role.name] = Role(role.name, str(role.outputs["arn"]), tuple(identity), boundary)
    return roles


def judge(role: Role, account: str, requests: Iterable[Required], report: Report) -> None:
    decided: dict[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...], str | None], str | None] = {}
    for required in requests:
        report.requests += 1
        key = (required.action, required.arn, required.context, required.key_policy)
        if key not in decided:
            decided[key] = _reason_denied(role, account, required)
        reason = decided[key]
        if reason is not None:
            report.gaps.append(Gap(required.stack, role.name, required.resource, required.type,
                                   required.operation, required.action, required.arn, required.region, reason))


def _reason_denied(role: Role, account: str, required: Required) -> str | None:
    request = iam.Request(required.action, required.arn, required.context_map)
    decision = iam.decide(role.identity, role.boundary, request)
    if not decision.allowed:
        return decision.reason
    if required.key_policy:
        on_key = iam.key_policy_allows(json.loads(required.key_policy), role.arn, account, request)
        if not on_key.allowed:
            return on_key.reason
    return None


def state_requests(stack: str, settings: Any, key_arn: str, *, write: bool,
                   reads: Sequence[str] = ()) -> list[Required]:
    """The self-managed backend: the stack's checkpoint, its history and backups, its lock, the secrets
    provider's key; and the state of every stack it reads through a StackReference."""
    bucket, region = settings.state_bucket_arn, settings.backend_region
    base = f"{bucket}/.pulumi"
    objects = [f"{base}/stacks/{PROJECT}/{stack}.json", f"{base}/locks/{PROJECT}/{stack}/lock.json"]
    if write:
        objects += [f"{base}/history/{PROJECT}/{stack}/{stack}-1.history.json",
                    f"{base}/backups/{PROJECT}/{stack}/{stack}.1.json"]
    found: list[Required] = []

    def add(action: str, arn: str, what: str) -> None:
        found.append(Required(stack, what, "pulumi:backend", "update" if write else "read", action, arn, region,
                              (("aws:requestedregion", (region,)),), "self-managed S3 backend (docs/bootstrap.md)"))
    add("s3:ListBucket", bucket, "state bucket")
    for arn in objects:
        add("s3:GetObject", arn, "state object")
        if write or "/locks/" in arn:
            add("s3:PutObject", arn, "state object")
            add("s3:DeleteObject", arn, "state object")
    for other in reads:
        add("s3:GetObject", f"{base}/stacks/{PROJECT}/{other}.json", f"StackReference {other}")
    for action in (("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey") if write else ("kms:Decrypt",)):
        add(action, key_arn, "secrets provider key")
    return found


def invoke_requests(stack: str, invokes: Iterable[tuple[str, str]], operation: Operation) -> list[Required]:
    found = []
    for token, region in invokes:
        if token not in INVOKES:
            raise LookupError(f"{stack}: the closure does not know what the invoke {token} calls in AWS")
        for action in INVOKES[token]:
            found.append(Required(stack, token, "invoke", operation, action, "*", region,
                                  (("aws:requestedregion", (region,)),), "the program's invoke"))
    return found


def closure_of_stack(stack: str, records: Sequence[RecordedResource], invokes: Sequence[tuple[str, str]],
                     everything: Records, roles: Mapping[str, Role], bootstrap: ModuleType, account: str,
                     primary: str | None) -> tuple[Report, Report]:
    """(deploy, preview) reports of one stack."""
    family = next(f for f in bootstrap.FAMILIES if stack in f.stacks)
    settings = _settings(bootstrap, account)
    key_arn = next(iter(_state_key_arns(roles)), "")
    deploy_role = roles[f"github-deploy-{family.environment}"]
    expander = Expander(stack, records, everything, account)
    deploy = Report(stack)
    references = [primary] if primary else []
    judge(deploy_role, account, [*expander.requests(), *invoke_requests(stack, invokes, "create"),
                                 *state_requests(stack, settings, key_arn, write=True, reads=references)], deploy)
    deploy.undecidable = expander.undecidable
    preview = Report(stack)
    judge(roles["github-preview"], account, [*invoke_requests(stack, invokes, "read"),
                                             *state_requests(stack, settings, key_arn, write=False,
                                                             reads=references)], preview)
    return deploy, preview


def _settings(bootstrap: ModuleType, account: str) -> Any:
    config = yaml.safe_load((BOOTSTRAP / f"Pulumi.{BOOTSTRAP_STACK}.yaml").read_text())["config"]
    return bootstrap.BootstrapSettings(account_id=account, repository="acme/x",
                                       state_bucket_name=config[f"{BOOTSTRAP_PROJECT}:stateBucketName"],
                                       backend_region=config["aws:region"])


def _state_key_arns(roles: Mapping[str, Role]) -> list[str]:
    return [str(s["Resource"]) for role in roles.values() for d in role.identity
            for s in d.get("Statement", []) if s.get("Sid") == "UseStateKey"]


STACKS: tuple[tuple[str, str | None], ...] = (("staging", None), ("staging-euw1", "staging"), ("prod", None),
                                               ("prod-euw1", "prod"))


@dataclass(frozen=True)
class StackRun:
    """What one stack's offline run registered and invoked."""

    stack: str
    primary: str | None
    account: str
    records: Sequence[RecordedResource]
    invokes: Sequence[tuple[str, str]]


def closure(runs: Sequence[StackRun], bootstrap: Recorder | None = None,
            roles: Mapping[str, Role] | None = None) -> list[tuple[Report, Report]]:
    """(deploy, preview) reports of every stack, judged against the bootstrap's roles (or `roles`)."""
    roles = roles if roles is not None else roles_of(bootstrap or run_bootstrap())
    module = load_bootstrap_module()
    everything = Records([r for run in runs for r in run.records])
    return [closure_of_stack(run.stack, run.records, run.invokes, everything, roles, module, run.account, run.primary)
            for run in runs]


# Granted to the deploy roles for what happens outside the registered resources' own calls: the pulumi
# action's step that primes the tracing collector's pull-through cache (.github/actions/pulumi).
WORKFLOW_ACTIONS: Mapping[str, str] = {
    **dict.fromkeys(("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:BatchImportUpstreamImage"), "the deploy workflow's first pull of the tracing collector through the pull-through cache"),
}


# Granted before the closure existed and required by no row; kept until a CloudTrail record of a real
# deploy shows whether the provider calls them (removing a read the provider does call fails `up`).
NOT_YET_DERIVED: frozenset[str] = frozenset({
    "access-analyzer:ListAnalyzers", "dynamodb:DescribeStream", "dynamodb:ListStreams",
    "ec2:DescribeAccountAttributes", "ec2:DescribeTags", "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
    "lambda:GetFunctionConfiguration", "servicediscovery:ListNamespaces", "ssm:GetParameters"})


def required_actions() -> set[str]:
    """Every action the table, the invokes and the workflow steps need."""
    from devkit.permissions.requests import TABLE

    needed = {a for t in TABLE.values() for op in ("create", "read", "update", "delete") for call in t.calls(op)
              for a in call.actions}
    return needed | {a for actions in INVOKES.values() for a in actions} | set(WORKFLOW_ACTIONS)


def granted_beyond_the_table(bootstrap: ModuleType) -> list[str]:
    """Deploy-role actions nothing in the closure requires (candidates for removal, see the doc)."""
    granted = {f"{service}:{action}" for service, actions in bootstrap.DEPLOY_ACTIONS.items() for action in actions}
    return sorted(granted - required_actions())


def table_size() -> tuple[int, int, int]:
    """(rows, resource types, distinct actions): one row per resource type and operation with calls."""
    from devkit.permissions.requests import TABLE

    rows = sum(1 for t in TABLE.values() for op in ("create", "read", "update", "delete") if t.calls(op))
    actions = {a for t in TABLE.values() for op in ("create", "read", "update", "delete")
               for call in t.calls(op) for a in call.actions}
    return rows, len(TABLE), len(actions) + sum(len(a) for a in INVOKES.values())
