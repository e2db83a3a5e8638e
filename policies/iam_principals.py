"""Principals and the conditions that narrow them (part of ``no-wildcard-iam``, see iam_documents.py): public
principals, caller-naming condition keys, and public identity providers whose tokens anyone can get."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .framework import Finding, deferred
from .iam_arns import _WILDCARDS, _has_wildcard, arn_widening
from .values import as_list, is_unknown

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


# Policy variables that stand for the caller: a narrowing value built from one matches every caller.
_CALLER_VARIABLES = ("${aws:principal", "${aws:userid}", "${aws:username}", "${aws:sourceaccount}",
                     "${aws:sourceowner}", "${aws:sourcearn}", "${aws:sourceorg", "${aws:vpce")


def _narrowing_value(value: Any, operator: str, key: str = "") -> bool | None:
    """Whether one condition value names something specific; None when unknown. A value built from a policy
    variable of the caller (``"aws:PrincipalAccount": "${aws:PrincipalAccount}"``) is always true; one naming a
    fixed account (``arn:aws:iam::<account>:role/*``) or organisation path (``o-.../*``) narrows to it."""
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return False
    lowered = value.lower()
    if any(variable in lowered for variable in _CALLER_VARIABLES) or f"${{{key}}}" in lowered:
        return False
    if operator in _EQUALITY_OPERATORS:
        return True  # no wildcard matching with these operators
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) == 6 and parts[4] and not any(_has_wildcard(p) for p in (parts[1], parts[2], parts[4])):
            return True  # whatever the rest, only that account's principals or resources match
        return arn_widening(value) is None
    if key.endswith("orgpaths"):
        return value.startswith("o-") and not _has_wildcard(value.split("/", 1)[0])
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
            verdicts = [_narrowing_value(v, op, key.lower()) for v in as_list(values)]
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
    """Whether a subject/audience value names whose tokens: ``repo:<owner>/<repo>...`` and
    ``project_path:<group>/<project>...`` must name the repository or project, not only the owner
    (``repo:org/*`` admits every repository anyone creates in the organisation)."""
    if is_unknown(value):
        return None
    if not isinstance(value, str) or not value.strip() or value[0] in _WILDCARDS or "${" in value:
        return False
    prefix = next((p for p in _SUBJECT_PREFIXES if value.startswith(p)), None)
    if prefix is None:
        return True
    rest = value[len(prefix):]
    if prefix in ("repo:", "project_path:"):
        path = rest.split(":", 1)[0].split("/")
        return len(path) >= 2 and all(part and not _has_wildcard(part) for part in path)
    parts = rest.split(":")  # organization:<org>:project:<project>:workspace:...
    return bool(parts[0]) and not _has_wildcard(parts[0]) and len(parts) >= 3 and parts[1] == "project" \
        and bool(parts[2]) and not _has_wildcard(parts[2])


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
