"""The public ALB of a region: its security group, access-log bucket, certificate and listeners."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_aws.acm as acm
import pulumi_aws.ec2 as ec2
import pulumi_aws.lb as lb
import pulumi_aws.route53 as route53
import pulumi_aws.s3 as s3
import pulumi_aws.vpc as vpc_rules

from components.legacy.legacy_route import forward_to
from components.regional_platform import platform_iam
from components.regional_platform.args import RegionalPlatformArgs

# AWS recommends this TLS 1.3/1.2 policy with hybrid post-quantum key exchange; it keeps TLS 1.2 for
# Route 53 health checkers. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
ALB_LOG_PREFIX = "alb"
NOT_FOUND: lb.ListenerDefaultActionArgsDict = {"type": "fixed-response", "fixed_response": {
    "content_type": "application/json", "message_body": '{"message":"not found"}', "status_code": "404"}}


@dataclass(frozen=True)
class LoadBalancer:
    alb: lb.LoadBalancer
    security_group: ec2.SecurityGroup
    http_listener: lb.Listener
    https_listener: lb.Listener | None

    @property
    def routing_listener(self) -> lb.Listener:
        """Service routes hang off the listener that serves traffic: HTTPS when there is a domain."""
        return self.https_listener or self.http_listener


def single_validation_record(options: Sequence[object], domain_name: str) -> dict[str, str]:
    """The one CNAME that validates `domain_name` and `*.domain_name`.

    ACM reports a validation option per name, but a wildcard is validated by the same record as its
    base name, so the apex and wildcard options carry one record (writing it twice would conflict).
    Fails if a name added to the certificate later would need a record this code does not create.
    """
    def field(option: object, key: str) -> str:
        value = getattr(option, key) if hasattr(option, key) else cast(Mapping[str, object], option)[key]
        return str(value)  # output type or plain dict

    names = {field(o, "domain_name") for o in options}
    records = {(field(o, "resource_record_name"), field(o, "resource_record_type"), field(o, "resource_record_value"))
               for o in options}
    if domain_name not in names or not names <= {domain_name, f"*.{domain_name}"} or len(records) != 1:
        raise ValueError(f"certificate for {sorted(names)} needs validation records {sorted(records)}; only the "
                         f"apex {domain_name!r} and its wildcard, sharing one record, are handled")
    (record_name, record_type, record_value), = records
    return {"name": record_name, "type": record_type, "value": record_value}


def create_load_balancers(name: str, args: RegionalPlatformArgs, *, vpc_id: pulumi.Input[str],
                          public_subnet_ids: Sequence[pulumi.Input[str]],
                          child: Callable[..., pulumi.ResourceOptions]) -> list[LoadBalancer]:
    """`args.load_balancer_count` public ALBs sharing one access-log bucket and one certificate (the
    wildcard covers every ALB's name). The first keeps the logical names it always had, so existing stacks
    keep their URNs; the others are suffixed with their number."""
    log_bucket, log_policy = _access_log_bucket(name, args, child)
    certificate_arn = _certificate(name, args, child) if args.domain_name else None
    return [_load_balancer(name, number, alb_name, args, vpc_id=vpc_id, public_subnet_ids=public_subnet_ids,
                           log_bucket=log_bucket, log_policy=log_policy, certificate_arn=certificate_arn, child=child)
            for number, alb_name in enumerate(args.alb_names, 1)]


def _load_balancer(name: str, number: int, alb_name: str, args: RegionalPlatformArgs, *, vpc_id: pulumi.Input[str],
                   public_subnet_ids: Sequence[pulumi.Input[str]], log_bucket: s3.Bucket, log_policy: s3.BucketPolicy,
                   certificate_arn: pulumi.Output[str] | None,
                   child: Callable[..., pulumi.ResourceOptions]) -> LoadBalancer:
    suffix = "" if number == 1 else f"-{number}"
    security_group = ec2.SecurityGroup(
        f"{name}-alb{suffix}", vpc_id=vpc_id, description="Public ALB: HTTP and HTTPS from the internet",
        tags={"Name": f"{name}-alb{suffix}"}, opts=child())
    for port in (80, 443) if args.domain_name else (80,):
        vpc_rules.SecurityGroupIngressRule(
            f"{name}-alb{suffix}-{port}", security_group_id=security_group.id, ip_protocol="tcp",
            from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0", description=f"Public traffic on {port}",
            opts=child())

    # Every ALB logs to the one bucket and prefix: AWS names each log file after its load balancer.
    alb = lb.LoadBalancer(
        f"{name}-alb{suffix}", name=alb_name, load_balancer_type="application", internal=False,
        security_groups=[security_group.id], subnets=list(public_subnet_ids),
        drop_invalid_header_fields=True, idle_timeout=args.alb_idle_timeout_seconds,
        enable_deletion_protection=args.deletion_protection,
        access_logs={"bucket": log_bucket.bucket, "prefix": ALB_LOG_PREFIX, "enabled": True},
        opts=child(depends_on=[log_policy]))

    # Requests no service routes: the legacy API while services replace it, else a 404. Only the first ALB
    # forwards there: an ALB target group belongs to one load balancer, and the legacy API answers at the
    # first ALB's name (api.<domain>).
    default_action = (forward_to(args.default_target_group_arn)
                      if args.default_target_group_arn is not None and number == 1 else NOT_FOUND)
    https_listener = None
    if certificate_arn is not None:
        https_listener = lb.Listener(
            f"{name}-https{suffix}", load_balancer_arn=alb.arn, port=443, protocol="HTTPS",
            ssl_policy=ALB_SSL_POLICY, certificate_arn=certificate_arn, default_actions=[default_action],
            opts=child())
        http_listener = lb.Listener(
            f"{name}-http{suffix}", load_balancer_arn=alb.arn, port=80, protocol="HTTP",
            default_actions=[{"type": "redirect", "redirect": {
                "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}], opts=child())
    else:
        http_listener = lb.Listener(
            f"{name}-http{suffix}", load_balancer_arn=alb.arn, port=80, protocol="HTTP",
            default_actions=[default_action],
            opts=child())
    return LoadBalancer(alb, security_group, http_listener, https_listener)


def _access_log_bucket(name: str, args: RegionalPlatformArgs,
                       child: Callable[..., pulumi.ResourceOptions]) -> tuple[s3.Bucket, s3.BucketPolicy]:
    """ALB access logs accept only SSE-S3 encryption, so this bucket does not use the platform key.
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"""
    bucket = s3.Bucket(f"{name}-alb-logs", force_destroy=not args.deletion_protection, opts=child())
    s3.BucketPublicAccessBlock(f"{name}-alb-logs", bucket=bucket.id, block_public_acls=True,
                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                               opts=child())
    s3.BucketOwnershipControls(f"{name}-alb-logs", bucket=bucket.id,
                               rule={"object_ownership": "BucketOwnerEnforced"}, opts=child())
    s3.BucketServerSideEncryptionConfiguration(
        f"{name}-alb-logs", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child())
    # Versioning keeps a deleted or overwritten log object recoverable for a week (scanners ask for it:
    # checkov CKV_AWS_21); the lifecycle expires noncurrent versions and incomplete multipart uploads.
    versioning = s3.BucketVersioning(f"{name}-alb-logs", bucket=bucket.id,
                                     versioning_configuration={"status": "Enabled"}, opts=child())
    s3.BucketLifecycleConfiguration(
        f"{name}-alb-logs", bucket=bucket.id,
        rules=[{"id": "expire-access-logs", "status": "Enabled", "filter": {"prefix": f"{ALB_LOG_PREFIX}/"},
                "expiration": {"days": args.access_log_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": 7}},
               {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1}}],
        opts=child(depends_on=[versioning]))
    policy = s3.BucketPolicy(
        f"{name}-alb-logs", bucket=bucket.id,
        policy=pulumi.Output.all(bucket.arn, args.account_id).apply(lambda values: json.dumps(
            platform_iam.alb_access_log_bucket_policy(values[0], values[1], ALB_LOG_PREFIX))),
        opts=child())
    return bucket, policy


def _certificate(name: str, args: RegionalPlatformArgs, child: Callable[..., pulumi.ResourceOptions]) -> pulumi.Output[str]:
    """ACM certificate for the apex and its wildcard (which covers the API name), validated through
    Route 53.

    ACM gives one validation CNAME per domain and account, the same in every region, and renews only while
    that record stays in place (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html). So
    the primary stack owns the record; the standby's certificate validates against it and never writes it,
    since tearing the standby down would otherwise delete the record the primary's renewals need.
    """
    domain_name = args.domain_name
    if domain_name is None:
        raise ValueError(f"{name}: a certificate needs the platform's domain name")
    certificate = acm.Certificate(
        f"{name}-certificate", domain_name=args.domain_name, validation_method="DNS",
        subject_alternative_names=[f"*.{args.domain_name}"], key_algorithm="EC_prime256v1", opts=child())
    if args.role != "primary":
        return acm.CertificateValidation(f"{name}-certificate", certificate_arn=certificate.arn,
                                         opts=child()).certificate_arn
    option = certificate.domain_validation_options.apply(
        lambda options: single_validation_record(options, domain_name))
    record = route53.Record(
        f"{name}-certificate-validation", zone_id=args.hosted_zone_id, name=option["name"],
        type=option["type"], records=[option["value"]], ttl=300, allow_overwrite=True, opts=child())
    return acm.CertificateValidation(
        f"{name}-certificate", certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn],
        opts=child()).certificate_arn
