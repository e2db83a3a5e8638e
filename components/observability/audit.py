"""AuditTrail: the account's multi-region CloudTrail trail and IAM Access Analyzer.

Both are per account, so exactly one stack owns them (`audit.owner`, checked across stacks like
`registryReplication.owner`). Sources:
* Bucket policy: CloudTrail user guide, "Amazon S3 bucket policy for CloudTrail": `s3:GetBucketAcl` on the
  bucket and `s3:PutObject` on `<bucket>/AWSLogs/<account>/*` with `s3:x-amz-acl=bucket-owner-full-control`,
  both for `cloudtrail.amazonaws.com` and held to this trail by `aws:SourceArn`.
* Key policy: "Configure AWS KMS key policies for CloudTrail": `kms:GenerateDataKey*` with the condition
  `kms:EncryptionContext:aws:cloudtrail:arn` like `arn:aws:cloudtrail:*:<account>:trail/*` and
  `aws:SourceArn` the trail, plus `kms:DescribeKey`. The action is spelled `kms:GenerateDataKey` (the pack
  refuses partial wildcards; CloudTrail calls GenerateDataKey); the key lives in the bucket's region.
* Log file validation: signed hourly digest files ("Validating CloudTrail log file integrity").
* Access Analyzer: an external-access analyzer of type ACCOUNT is regional, so one is created in each of
  the platform's regions.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.accessanalyzer as accessanalyzer
import pulumi_aws.cloudtrail as cloudtrail
import pulumi_aws.kms as kms
import pulumi_aws.s3 as s3

from components.regional_platform.platform_iam import KEY_ADMIN_ACTIONS

COMPONENT_TYPE = "microservices:observability:AuditTrail"
# CreateTrail: 3-128 characters of letters, digits, '.', '_' and '-', starting with a letter or digit.
TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$")
# CreateAnalyzer: analyzerName 1-255, starting with a letter.
ANALYZER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")


@dataclass(frozen=True)
class AuditStackFacts:
    """What the one-owner rule needs to know about a stack."""

    stack: str
    account_id: str
    role: str
    is_owner: bool


def audit_ownership_problems(stacks: Iterable[AuditStackFacts]) -> list[str]:
    """Per account: exactly one stack owns the trail and the analyzers, and it is a primary (the standby
    exists to survive its primary's region, not to hold the account's audit log)."""
    by_account: dict[str, list[AuditStackFacts]] = defaultdict(list)
    for facts in stacks:
        by_account[facts.account_id].append(facts)
    problems = []
    for account_id, account_stacks in sorted(by_account.items()):
        owners = sorted(s.stack for s in account_stacks if s.is_owner)
        if not owners:
            problems.append(f"account {account_id}: no stack owns the audit trail (stacks "
                            f"{sorted(s.stack for s in account_stacks)}); set audit.owner: true on exactly one primary")
        elif len(owners) > 1:
            problems.append(f"account {account_id}: stacks {owners} all own the audit trail; it is one per account")
        else:
            owner = next(s for s in account_stacks if s.is_owner)
            if owner.role != "primary":
                problems.append(f"account {account_id}: audit owner {owner.stack} is a {owner.role}; it must be a "
                                "primary stack")
    return problems


def trail_arn(region: str, account_id: str, trail_name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account_id}:trail/{trail_name}"


def trail_bucket_policy(bucket_arn: str, account_id: str, trail: str) -> dict[str, Any]:
    """CloudTrail may read the ACL and write this account's logs, for this trail only; TLS only for everyone."""
    source = {"aws:SourceArn": trail}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": bucket_arn, "Condition": {"StringEquals": source}},
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
         "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def trail_key_policy(account_id: str, trail: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersKeyThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         # Decrypt: people with IAM permission read the log files; nothing else decrypts.
         "Action": KEY_ADMIN_ACTIONS + ["kms:Decrypt"], "Resource": "*"},
        {"Sid": "CloudTrailEncryptsLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                      f"arn:aws:cloudtrail:*:{account_id}:trail/*"},
                       "StringEquals": {"aws:SourceArn": trail}}},
        {"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail}}},
    ]}


@dataclass(frozen=True)
class AuditTrailArgs:
    """trail_name: unique in the account; home_region: where the trail, its bucket and key live.
    analyzer_regions: where to create the ACCOUNT analyzer (external access is judged per region; an
    account holds one per region, so regions that already have one are left out).
    retention_days: how long log files are kept; noncurrent versions go after 30 days.
    """

    trail_name: str
    home_region: str
    account_id: pulumi.Input[str]
    analyzer_regions: tuple[str, ...]
    retention_days: int = 400
    deletion_protection: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not TRAIL_NAME.fullmatch(self.trail_name):
            problems.append(f"trail name {self.trail_name!r} must be 3-128 letters, digits, '.', '_' or '-'")
        if self.retention_days < 90:
            problems.append(f"keep audit logs at least 90 days, got {self.retention_days}")
        if problems:
            raise ValueError("AuditTrailArgs: " + "; ".join(problems))

    @property
    def analyzer_name(self) -> str:
        return f"{self.trail_name}-external-access"


class AuditTrail(pulumi.ComponentResource):
    trail_arn: pulumi.Output[str]
    """ARN of the multi-region trail."""
    bucket_name: pulumi.Output[str]
    """The bucket holding the log and digest files."""
    analyzer_arns: pulumi.Output[list[str]]
    """The Access Analyzer of each region."""

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        trail = pulumi.Output.from_input(args.account_id).apply(
            lambda account: trail_arn(args.home_region, account, args.trail_name))

        self.key = kms.Key(
            f"{name}-key", description=f"Encrypts the CloudTrail trail {args.trail_name}", enable_key_rotation=True,
            deletion_window_in_days=30, tags=tags, opts=child, region=args.home_region,
            policy=pulumi.Output.all(args.account_id, trail).apply(
                lambda values: json.dumps(trail_key_policy(values[0], values[1]))))
        kms.Alias(f"{name}-key", name=f"alias/{args.trail_name}", target_key_id=self.key.key_id, opts=child, region=args.home_region)

        self.bucket = s3.Bucket(f"{name}-logs", bucket_prefix=f"{args.trail_name}-".lower()[:37],
                                force_destroy=not args.deletion_protection, tags=tags, opts=child, region=args.home_region)
        s3.BucketPublicAccessBlock(f"{name}-logs", bucket=self.bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                                   opts=child, region=args.home_region)
        s3.BucketOwnershipControls(f"{name}-logs", bucket=self.bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=child, region=args.home_region)
        s3.BucketVersioning(f"{name}-logs", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"},
                            opts=child, region=args.home_region)
        # Log files carry SSE-KMS from the trail's key; the bucket default covers the digest files.
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child, region=args.home_region)
        s3.BucketLifecycleConfiguration(f"{name}-logs", bucket=self.bucket.id, rules=[
            {"id": "expire-audit-logs", "status": "Enabled", "filter": {"prefix": "AWSLogs/"},
             "expiration": {"days": args.retention_days},
             "noncurrent_version_expiration": {"noncurrent_days": 30}},
            {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {"prefix": ""},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}], opts=child, region=args.home_region)
        policy = s3.BucketPolicy(
            f"{name}-logs", bucket=self.bucket.id, opts=child, region=args.home_region,
            policy=pulumi.Output.all(self.bucket.arn, args.account_id, trail).apply(
                lambda values: json.dumps(trail_bucket_policy(*values))))

        self.trail = cloudtrail.Trail(
            f"{name}-trail", name=args.trail_name, s3_bucket_name=self.bucket.id, is_multi_region_trail=True,
            include_global_service_events=True, enable_log_file_validation=True, kms_key_id=self.key.arn,
            tags=tags, opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]), region=args.home_region)
        self.analyzers = [accessanalyzer.Analyzer(
            f"{name}-analyzer-{region}", analyzer_name=args.analyzer_name, type="ACCOUNT", region=region, tags=tags,
            opts=child) for region in args.analyzer_regions]

        self.trail_arn = self.trail.arn
        self.bucket_name = self.bucket.id
        self.analyzer_arns = pulumi.Output.all(*[a.arn for a in self.analyzers])
        self.register_outputs({"trailArn": self.trail_arn, "bucketName": self.bucket_name,
                               "analyzerArns": self.analyzer_arns})
