"""What a prod stack refuses to delete: `protect` on its stateful resources (docs/lifecycle.md).

A protected resource makes `pulumi destroy`, and any `pulumi up` that would delete or replace it, stop
before AWS is called. Prod's data (Aurora clusters and their global databases, DynamoDB tables, secrets),
the keys that encrypt it, its image repositories and the audit trail's log bucket are protected; staging
is torn down and rebuilt freely. Lifting it is deliberate: `pulumi state unprotect --all -s <stack>`
(or one URN), then `pulumi destroy` (the program is not run by destroy, so it cannot re-protect).
"""

from __future__ import annotations

import pulumi

from components.observability.audit import AuditTrail

PROTECTED_ENVIRONMENTS = frozenset({"prod"})
PROTECTED_TYPES = frozenset({
    "aws:rds/cluster:Cluster",
    "aws:rds/globalCluster:GlobalCluster",
    "aws:dynamodb/table:Table",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:ecr/repository:Repository",
})
# Buckets are protected only where they hold audit logs (the ALB access-log bucket is not evidence).
AUDIT_BUCKET_TYPE = "aws:s3/bucket:Bucket"


def is_protected(type_: str, parent: pulumi.Resource | None) -> bool:
    return type_ in PROTECTED_TYPES or (type_ == AUDIT_BUCKET_TYPE and isinstance(parent, AuditTrail))


# The environment of the program being run. A process that runs several programs (the offline preview,
# the tests) keeps one root resource, and with it a stack transformation, across runs; the
# transformation therefore reads the current run's environment instead of capturing the first one.
_current: dict[str, object] = {"environment": "", "root": None}


def _protect(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    if _current["environment"] not in PROTECTED_ENVIRONMENTS or not is_protected(args.type_, args.opts.parent):
        return None
    return pulumi.ResourceTransformationResult(
        args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True)))


def protect_stateful_resources(environment: str) -> bool:
    """Protect the stateful resources of this run if its environment asks for it; True if it does."""
    _current["environment"] = environment
    root = pulumi.runtime.get_root_resource()
    if root is not _current["root"]:
        pulumi.runtime.register_stack_transformation(_protect)
        _current["root"] = root
    return environment in PROTECTED_ENVIRONMENTS
