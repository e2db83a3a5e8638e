"""RegionalPlatform: everything the services of one stack share in one region.

Network (VPC, subnets, NAT, endpoints), the ECS cluster and its Service Connect namespace, the public
ALB, one ECR repository per service, the ECR pull-through cache the tracing collector image comes from,
the platform KMS key, the permissions boundary every role carries, and the Service Connect TLS
certificate authority with its infrastructure role.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws.acm as acm
import pulumi_aws.acmpca as acmpca
import pulumi_aws.ec2 as ec2
import pulumi_aws.ecr as ecr
import pulumi_aws.ecs as ecs
import pulumi_aws.iam as iam
import pulumi_aws.kms as kms
import pulumi_aws.lb as lb
import pulumi_aws.route53 as route53
import pulumi_aws.s3 as s3
import pulumi_aws.servicediscovery as servicediscovery
import pulumi_aws.vpc as vpc_rules

from components import platform_policies
from components.container_definitions import ADOT_COLLECTOR_UPSTREAM_REGISTRY, regional_collector_image
from components.endpoints import GATEWAY_ENDPOINTS, endpoint_service_name, interface_endpoint_services

NAMESPACE_NAME = "svc.local"
# AWS recommends this TLS 1.3/1.2 policy with hybrid post-quantum key exchange; it keeps TLS 1.2 for
# Route 53 health checkers. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
ALB_LOG_PREFIX = "alb"
REGION_CODES = {"eu-central-1": "euc1", "eu-west-1": "euw1"}
# CreateLoadBalancer Name: at most 32 alphanumerics or hyphens, not starting or ending with "-", not
# starting with "internal-". https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
ALB_NAME = re.compile(r"^(?!internal-)[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
# CreatePullThroughCacheRule ecrRepositoryPrefix: 2-30 characters matching this pattern
# (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html).
PULL_THROUGH_CACHE_PREFIX = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# Both supported regions have zones a, b and c; letters map to different physical zones per account,
# which is fine: only distinctness matters here.
ZONE_LETTERS = "abc"


@dataclass(frozen=True)
class CapacityStrategy:
    on_demand_base: int
    on_demand_weight: int
    spot_weight: int


@dataclass(frozen=True)
class RegionalPlatformArgs:
    environment: str
    region: str
    role: str
    account_id: pulumi.Input[str]
    vpc_cidr: str
    az_count: int
    nat_strategy: str
    endpoint_az_count: int
    repository_names: Mapping[str, str]
    capacity: CapacityStrategy
    alb_idle_timeout_seconds: int
    service_connect_tls: bool
    tracing: bool
    domain_name: Optional[str] = None
    hosted_zone_id: Optional[str] = None
    container_insights: str = "enabled"
    deletion_protection: bool = False
    untagged_image_days: int = 7
    tagged_images_kept: int = 30
    # Tags for the repositories ECR creates by replication in the standby region. The provider's default
    # tags don't reach them (ECR creates them, not Pulumi), so the creation template carries them.
    repository_tags: Mapping[str, str] = field(default_factory=dict)


def pull_through_cache_prefix(environment: str) -> str:
    """The ECR repository prefix of an environment's ECR Public pull-through cache rule.

    A rule belongs to a registry (account and region) and a prefix, and the staging and prod stacks of a
    region share one registry, so each environment owns the rule of its own prefix. ECR treats a prefix `p`
    as `p/`, so `staging-ecr-public` never matches another environment's repositories (`staging/...`).
    """
    prefix = f"{environment}-ecr-public"
    if not (2 <= len(prefix) <= 30 and PULL_THROUGH_CACHE_PREFIX.match(prefix)):
        raise ValueError(f"pull-through cache prefix {prefix!r} must be 2-30 characters matching "
                         f"{PULL_THROUGH_CACHE_PREFIX.pattern} (CreatePullThroughCacheRule)")
    return prefix


def subnet_plan(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Private and public subnet CIDRs: the VPC is cut into eighths; private subnets take the first
    az_count eighths, public ones the eighths from the middle, leaving room for a third tier."""
    eighths = list(ipaddress.ip_network(vpc_cidr).subnets(prefixlen_diff=3))
    return [str(n) for n in eighths[:az_count]], [str(n) for n in eighths[4:4 + az_count]]


def single_validation_record(options: Sequence[object], domain_name: str) -> dict[str, str]:
    """The one CNAME that validates `domain_name` and `*.domain_name`.

    ACM reports a validation option per name, but a wildcard is validated by the same record as its
    base name, so the apex and wildcard options carry one record (writing it twice would conflict).
    Fails if a name added to the certificate later would need a record this code does not create.
    """
    def field(option: object, key: str) -> str:
        return getattr(option, key) if hasattr(option, key) else option[key]  # output type or plain dict

    names = {field(o, "domain_name") for o in options}
    records = {(field(o, "resource_record_name"), field(o, "resource_record_type"), field(o, "resource_record_value"))
               for o in options}
    if domain_name not in names or not names <= {domain_name, f"*.{domain_name}"} or len(records) != 1:
        raise ValueError(f"certificate for {sorted(names)} needs validation records {sorted(records)}; only the "
                         f"apex {domain_name!r} and its wildcard, sharing one record, are handled")
    (record_name, record_type, record_value), = records
    return {"name": record_name, "type": record_type, "value": record_value}


def lifecycle_policy(untagged_days: int, tagged_kept: int) -> dict:
    """Expire untagged images after N days; keep the last M tagged ones.
    https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html"""
    return {"rules": [
        {"rulePriority": 1, "description": f"Expire untagged images older than {untagged_days} days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                       "countNumber": untagged_days},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": f"Keep the {tagged_kept} most recent tagged images",
         "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                       "countNumber": tagged_kept},
         "action": {"type": "expire"}},
    ]}


class RegionalPlatform(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list]
    public_subnet_ids: pulumi.Output[list]

    def __init__(self, name: str, args: RegionalPlatformArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("microservices:platform:RegionalPlatform", name, None, opts)
        self._name = name
        self._args = args
        self.alb_name = f"{args.environment}-{REGION_CODES[args.region]}-platform"
        if not ALB_NAME.match(self.alb_name):
            raise ValueError(f"ALB name {self.alb_name!r} is not a valid load balancer name (at most 32 letters, "
                             "digits or hyphens, no hyphen at either end, no 'internal-' prefix)")

        self.pull_through_cache_prefix = pull_through_cache_prefix(args.environment)

        self._network()
        self._endpoints()
        self._key_and_boundary_and_tls()
        self._cluster()
        self._load_balancer()
        self._repositories()
        self._collector_cache()

        self.register_outputs({
            "vpcId": self.vpc_id, "privateSubnetIds": self.private_subnet_ids,
            "publicSubnetIds": self.public_subnet_ids, "clusterArn": self.cluster_arn,
            "clusterName": self.cluster_name, "namespaceId": self.namespace_id,
            "namespaceArn": self.namespace_arn, "albArn": self.alb_arn, "albDnsName": self.alb_dns_name,
            "albZoneId": self.alb_zone_id, "kmsKeyArn": self.kms_key_arn,
            "permissionsBoundaryArn": self.permissions_boundary_arn, "collectorImageUri": self.collector_image_uri,
        })

    def _child(self, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    # --- network -----------------------------------------------------------------------------

    def _network(self) -> None:
        args, name = self._args, self._name
        zones = [f"{args.region}{letter}" for letter in ZONE_LETTERS[:args.az_count]]
        private_cidrs, public_cidrs = subnet_plan(args.vpc_cidr, args.az_count)

        # Private DNS on interface endpoints needs both DNS attributes on the VPC.
        self.vpc = ec2.Vpc(f"{name}-vpc", cidr_block=args.vpc_cidr, enable_dns_support=True,
                           enable_dns_hostnames=True, tags={"Name": f"{name}-vpc"}, opts=self._child())
        internet_gateway = ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"},
                                               opts=self._child())

        public_routes = ec2.RouteTable(f"{name}-public", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"},
                                       opts=self._child())
        ec2.Route(f"{name}-public-internet", route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0",
                  gateway_id=internet_gateway.id, opts=self._child())

        self.public_subnets, self.private_subnets, self.private_route_tables = [], [], []
        for index, zone in enumerate(zones):
            public = ec2.Subnet(f"{name}-public-{zone[-1]}", vpc_id=self.vpc.id, cidr_block=public_cidrs[index],
                                availability_zone=zone, map_public_ip_on_launch=False,
                                tags={"Name": f"{name}-public-{zone[-1]}", "tier": "public"}, opts=self._child())
            ec2.RouteTableAssociation(f"{name}-public-{zone[-1]}", subnet_id=public.id,
                                      route_table_id=public_routes.id, opts=self._child())
            self.public_subnets.append(public)

        nat_gateways = []
        nat_zones = {"none": 0, "single": 1, "one-per-az": len(zones)}[args.nat_strategy]
        for index in range(nat_zones):
            letter = zones[index][-1]
            address = ec2.Eip(f"{name}-nat-{letter}", domain="vpc", tags={"Name": f"{name}-nat-{letter}"},
                              opts=self._child())
            nat_gateways.append(ec2.NatGateway(
                f"{name}-nat-{letter}", allocation_id=address.id, subnet_id=self.public_subnets[index].id,
                connectivity_type="public", tags={"Name": f"{name}-nat-{letter}"},
                opts=self._child(depends_on=[internet_gateway])))

        for index, zone in enumerate(zones):
            letter = zone[-1]
            private = ec2.Subnet(f"{name}-private-{letter}", vpc_id=self.vpc.id, cidr_block=private_cidrs[index],
                                 availability_zone=zone, map_public_ip_on_launch=False,
                                 tags={"Name": f"{name}-private-{letter}", "tier": "private"}, opts=self._child())
            routes = ec2.RouteTable(f"{name}-private-{letter}", vpc_id=self.vpc.id,
                                    tags={"Name": f"{name}-private-{letter}"}, opts=self._child())
            if nat_gateways:
                # One NAT per AZ keeps a zone's egress alive when another zone fails.
                ec2.Route(f"{name}-private-{letter}-nat", route_table_id=routes.id,
                          destination_cidr_block="0.0.0.0/0",
                          nat_gateway_id=nat_gateways[min(index, len(nat_gateways) - 1)].id, opts=self._child())
            ec2.RouteTableAssociation(f"{name}-private-{letter}", subnet_id=private.id, route_table_id=routes.id,
                                      opts=self._child())
            self.private_subnets.append(private)
            self.private_route_tables.append(routes)

        self.vpc_id = self.vpc.id
        self.vpc_cidr = self.vpc.cidr_block
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])

    def _endpoints(self) -> None:
        args, name = self._args, self._name
        self.endpoint_security_group = ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=self.vpc.id, description="VPC interface endpoints: HTTPS from the VPC",
            tags={"Name": f"{name}-endpoints"}, opts=self._child())
        vpc_rules.SecurityGroupIngressRule(
            f"{name}-endpoints-https", security_group_id=self.endpoint_security_group.id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4=args.vpc_cidr, description="HTTPS from inside the VPC",
            opts=self._child())

        endpoint_subnets = [s.id for s in self.private_subnets[:args.endpoint_az_count]]
        self.interface_endpoints = {}
        for service in interface_endpoint_services(args.nat_strategy, service_connect=True, tracing=args.tracing):
            self.interface_endpoints[service] = ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}", vpc_id=self.vpc.id,
                service_name=endpoint_service_name(args.region, service), vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=endpoint_subnets,
                security_group_ids=[self.endpoint_security_group.id],
                tags={"Name": f"{name}-{service}"}, opts=self._child())
        for service in GATEWAY_ENDPOINTS:
            ec2.VpcEndpoint(
                f"{name}-{service}", vpc_id=self.vpc.id, service_name=endpoint_service_name(args.region, service),
                vpc_endpoint_type="Gateway", route_table_ids=[t.id for t in self.private_route_tables],
                tags={"Name": f"{name}-{service}"}, opts=self._child())

    # --- key, boundary, Service Connect TLS --------------------------------------------------

    def _key_and_boundary_and_tls(self) -> None:
        args, name = self._args, self._name
        key_policy = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps(platform_policies.kms_key_policy(account, args.region)))
        self.kms_key = kms.Key(
            f"{name}-key", description=f"{args.environment} platform key ({args.region}): logs, ECR, secrets",
            key_usage="ENCRYPT_DECRYPT", customer_master_key_spec="SYMMETRIC_DEFAULT", enable_key_rotation=True,
            deletion_window_in_days=30, policy=key_policy, opts=self._child())
        kms.Alias(f"{name}-key", name=f"alias/{args.environment}-platform", target_key_id=self.kms_key.key_id,
                  opts=self._child())
        self.kms_key_arn = self.kms_key.arn

        self.certificate_authority = None
        if args.service_connect_tls:
            self.certificate_authority = self._service_connect_ca()

        ca_arn = self.certificate_authority.arn if self.certificate_authority else None
        boundary = pulumi.Output.all(args.account_id, self.kms_key.arn, ca_arn).apply(
            lambda values: json.dumps(platform_policies.permissions_boundary(
                values[0], args.region, args.environment, values[1], self.alb_name, values[2],
                pull_through_cache_prefix=self.pull_through_cache_prefix,
                reads_replica_secrets=args.role == "standby",
                creates_replica_repositories=args.role == "standby")))
        self.permissions_boundary = iam.Policy(
            f"{name}-boundary", description=f"Permissions boundary of every {args.environment} platform role "
                                            f"in {args.region}", policy=boundary, opts=self._child())
        self.permissions_boundary_arn = self.permissions_boundary.arn

        trust = json.dumps(platform_policies.ecs_infrastructure_trust_policy())
        # ECS shifts canary/linear traffic on the ALB through this role.
        self.load_balancer_role = iam.Role(
            f"{name}-ecs-lb", assume_role_policy=trust, permissions_boundary=self.permissions_boundary.arn,
            description="ECS infrastructure role: canary/linear traffic shifts on the platform ALB",
            opts=self._child())
        load_balancer_policy = iam.RolePolicyAttachment(
            f"{name}-ecs-lb", role=self.load_balancer_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers", opts=self._child())
        self.load_balancer_role_arn = self.load_balancer_role.arn
        # Services must be created after, and deleted before, what their deployments rely on.
        self.load_balancer_role_dependencies = [self.load_balancer_role, load_balancer_policy]

        self.service_connect_tls_role_arn = None
        self.service_connect_tls_dependencies: list[pulumi.Resource] = []
        if self.certificate_authority is not None:
            tls_role = iam.Role(
                f"{name}-ecs-sc-tls", assume_role_policy=trust, permissions_boundary=self.permissions_boundary.arn,
                description="ECS infrastructure role: Service Connect TLS certificates", opts=self._child())
            tls_policy = iam.RolePolicyAttachment(
                f"{name}-ecs-sc-tls", role=tls_role.name,
                policy_arn="arn:aws:iam::aws:policy/service-role/"
                           "AmazonECSInfrastructureRolePolicyForServiceConnectTransportLayerSecurity",
                opts=self._child())
            tls_key_policy = iam.RolePolicy(f"{name}-ecs-sc-tls-key", role=tls_role.id,
                           policy=self.kms_key.arn.apply(
                               lambda arn: json.dumps(platform_policies.service_connect_tls_key_policy(arn))),
                           opts=self._child())
            self.service_connect_tls_role_arn = tls_role.arn
            self.service_connect_tls_dependencies = [self.certificate_authority_installed, tls_role, tls_policy,
                                                     tls_key_policy]

    def _service_connect_ca(self) -> acmpca.CertificateAuthority:
        """A short-lived-certificate root CA for Service Connect TLS (ECS requires the
        AmazonECSManaged=true tag). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-tls.html"""
        args, name = self._args, self._name
        authority = acmpca.CertificateAuthority(
            f"{name}-sc-ca", type="ROOT", usage_mode="SHORT_LIVED_CERTIFICATE",
            certificate_authority_configuration={
                "key_algorithm": "EC_prime256v1", "signing_algorithm": "SHA256WITHECDSA",
                "subject": {"common_name": f"{NAMESPACE_NAME} {args.environment} {args.region}",
                            "organization": "microservices-foundation"},
            },
            permanent_deletion_time_in_days=7, tags={"AmazonECSManaged": "true"}, opts=self._child())
        root_certificate = acmpca.Certificate(
            f"{name}-sc-ca-root", certificate_authority_arn=authority.arn,
            certificate_signing_request=authority.certificate_signing_request, signing_algorithm="SHA256WITHECDSA",
            template_arn="arn:aws:acm-pca:::template/RootCACertificate/V1",
            validity={"type": "YEARS", "value": "10"}, opts=self._child())
        # A self-signed root has no chain, so certificate_chain is left out (Pulumi: not allowed for roots).
        self.certificate_authority_installed = acmpca.CertificateAuthorityCertificate(
            f"{name}-sc-ca-root", certificate_authority_arn=authority.arn,
            certificate=root_certificate.certificate, opts=self._child())
        return authority

    # --- cluster -----------------------------------------------------------------------------

    def _cluster(self) -> None:
        args, name = self._args, self._name
        self.namespace = servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace", name=NAMESPACE_NAME, vpc=self.vpc.id,
            description=f"Service Connect namespace of {args.environment} in {args.region}", opts=self._child())
        self.cluster = ecs.Cluster(
            f"{name}-cluster", settings=[{"name": "containerInsights", "value": args.container_insights}],
            service_connect_defaults={"namespace": self.namespace.arn}, opts=self._child())
        capacity = args.capacity
        ecs.ClusterCapacityProviders(
            f"{name}-capacity", cluster_name=self.cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=self.capacity_provider_strategy(capacity), opts=self._child())
        self.cluster_arn = self.cluster.arn
        self.cluster_name = self.cluster.name
        self.namespace_id = self.namespace.id
        self.namespace_arn = self.namespace.arn
        self.namespace_name = NAMESPACE_NAME

    @staticmethod
    def capacity_provider_strategy(capacity: CapacityStrategy) -> list[dict]:
        strategy = [{"capacity_provider": "FARGATE", "base": capacity.on_demand_base,
                     "weight": capacity.on_demand_weight}]
        if capacity.spot_weight:
            strategy.append({"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": capacity.spot_weight})
        return strategy

    # --- load balancer -----------------------------------------------------------------------

    def _load_balancer(self) -> None:
        args, name = self._args, self._name
        self.alb_security_group = ec2.SecurityGroup(
            f"{name}-alb", vpc_id=self.vpc.id, description="Public ALB: HTTP and HTTPS from the internet",
            tags={"Name": f"{name}-alb"}, opts=self._child())
        for port in (80, 443) if args.domain_name else (80,):
            vpc_rules.SecurityGroupIngressRule(
                f"{name}-alb-{port}", security_group_id=self.alb_security_group.id, ip_protocol="tcp",
                from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0", description=f"Public traffic on {port}",
                opts=self._child())

        log_bucket, log_policy = self._access_log_bucket()
        self.alb = lb.LoadBalancer(
            f"{name}-alb", name=self.alb_name, load_balancer_type="application", internal=False,
            security_groups=[self.alb_security_group.id], subnets=[s.id for s in self.public_subnets],
            drop_invalid_header_fields=True, idle_timeout=args.alb_idle_timeout_seconds,
            enable_deletion_protection=args.deletion_protection,
            access_logs={"bucket": log_bucket.bucket, "prefix": ALB_LOG_PREFIX, "enabled": True},
            opts=self._child(depends_on=[log_policy]))

        not_found = {"type": "fixed-response", "fixed_response": {
            "content_type": "application/json", "message_body": '{"message":"not found"}', "status_code": "404"}}
        self.https_listener = None
        if args.domain_name:
            certificate_arn = self._certificate()
            self.https_listener = lb.Listener(
                f"{name}-https", load_balancer_arn=self.alb.arn, port=443, protocol="HTTPS",
                ssl_policy=ALB_SSL_POLICY, certificate_arn=certificate_arn, default_actions=[not_found],
                opts=self._child())
            self.http_listener = lb.Listener(
                f"{name}-http", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP",
                default_actions=[{"type": "redirect", "redirect": {
                    "port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}], opts=self._child())
        else:
            self.http_listener = lb.Listener(
                f"{name}-http", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP",
                default_actions=[not_found], opts=self._child())

        self.alb_arn = self.alb.arn
        self.alb_arn_suffix = self.alb.arn_suffix
        self.alb_dns_name = self.alb.dns_name
        self.alb_zone_id = self.alb.zone_id
        self.alb_security_group_id = self.alb_security_group.id
        self.http_listener_arn = self.http_listener.arn
        self.https_listener_arn = self.https_listener.arn if self.https_listener else None
        # Service routes hang off the listener that serves traffic: HTTPS when there is a domain.
        self.routing_listener_arn = (self.https_listener or self.http_listener).arn

    def _access_log_bucket(self) -> tuple[s3.Bucket, s3.BucketPolicy]:
        """ALB access logs accept only SSE-S3 encryption, so this bucket does not use the platform key.
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html"""
        args, name = self._args, self._name
        bucket = s3.Bucket(f"{name}-alb-logs", force_destroy=not self._args.deletion_protection, opts=self._child())
        s3.BucketPublicAccessBlock(f"{name}-alb-logs", bucket=bucket.id, block_public_acls=True,
                                   block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                                   opts=self._child())
        s3.BucketOwnershipControls(f"{name}-alb-logs", bucket=bucket.id,
                                   rule={"object_ownership": "BucketOwnerEnforced"}, opts=self._child())
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=self._child())
        s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs", bucket=bucket.id,
            rules=[{"id": "expire-access-logs", "status": "Enabled", "filter": {"prefix": f"{ALB_LOG_PREFIX}/"},
                    "expiration": {"days": 90 if args.environment == "prod" else 30}}], opts=self._child())
        policy = s3.BucketPolicy(
            f"{name}-alb-logs", bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.account_id).apply(lambda values: json.dumps(
                platform_policies.alb_access_log_bucket_policy(values[0], values[1], ALB_LOG_PREFIX))),
            opts=self._child())
        return bucket, policy

    def _certificate(self) -> pulumi.Output[str]:
        """ACM certificate for the apex and its wildcard (which covers the API name), validated through
        Route 53.

        ACM gives one validation CNAME per domain and account, the same in every region ("Since the
        CNAME validation token works for any AWS Region, you can re-create the same certificate in
        multiple Regions"), and renews only while that record stays in place
        (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html). So the primary stack
        owns the record; the standby's certificate validates against it and never writes it, since
        tearing the standby down would otherwise delete the record the primary's renewals need.
        """
        args, name = self._args, self._name
        certificate = acm.Certificate(
            f"{name}-certificate", domain_name=args.domain_name, validation_method="DNS",
            subject_alternative_names=[f"*.{args.domain_name}"], key_algorithm="EC_prime256v1",
            opts=self._child())
        if self._args.role != "primary":
            validation = acm.CertificateValidation(f"{name}-certificate", certificate_arn=certificate.arn,
                                                   opts=self._child())
            return validation.certificate_arn
        option = certificate.domain_validation_options.apply(
            lambda options: single_validation_record(options, args.domain_name))
        record = route53.Record(
            f"{name}-certificate-validation", zone_id=args.hosted_zone_id, name=option["name"],
            type=option["type"], records=[option["value"]], ttl=300, allow_overwrite=True, opts=self._child())
        validation = acm.CertificateValidation(
            f"{name}-certificate", certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn],
            opts=self._child())
        return validation.certificate_arn

    # --- registries --------------------------------------------------------------------------

    def _repositories(self) -> None:
        args, name = self._args, self._name
        policy = json.dumps(lifecycle_policy(args.untagged_image_days, args.tagged_images_kept))
        self.repository_urls: dict[str, pulumi.Output[str]] = {}
        self.repository_arns: dict[str, pulumi.Output[str]] = {}
        if args.role != "primary":
            # The standby region's repositories are the replication destinations: ECR creates them,
            # under the same names, on the first replicated push; creating them here too would fail with
            # RepositoryAlreadyExistsException. https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication.html
            # What this stack owns instead is the template ECR creates them from, which only shapes
            # repositories created after it exists: it must be deployed before the first push.
            self._replica_repository_template(policy)
            account = pulumi.Output.from_input(args.account_id)
            for service, repository_name in args.repository_names.items():
                self.repository_urls[service] = account.apply(
                    lambda a, n=repository_name: f"{a}.dkr.ecr.{args.region}.amazonaws.com/{n}")
                self.repository_arns[service] = account.apply(
                    lambda a, n=repository_name: f"arn:aws:ecr:{args.region}:{a}:repository/{n}")
            return
        for service, repository_name in args.repository_names.items():
            repository = ecr.Repository(
                f"{name}-{service}", name=repository_name, image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": self.kms_key.arn}],
                force_delete=False, opts=self._child())
            ecr.LifecyclePolicy(f"{name}-{service}", repository=repository.name, policy=policy, opts=self._child())
            self.repository_urls[service] = repository.repository_url
            self.repository_arns[service] = repository.arn

    def _replica_repository_template(self, lifecycle: str) -> None:
        """The settings ECR gives the repositories it creates here by replication.

        Without a template they get none of the primary's (mutable tags, AES-256 rather than the platform
        key, no lifecycle policy, no tags). A template with appliedFor REPLICATION in the destination
        registry, i.e. this region, applies its settings to every repository replication creates after it
        exists, never to ones created before
        (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create.html).
        Prefix `<environment>` matches `<environment>/...`: ECR always assumes a trailing "/"
        (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html),
        so `prod` never matches `prod-x/...` and the staging and prod standbys, which share this account's
        registry, each own the template of their own prefix.

        KMS encryption and repository tags need a custom role ECR assumes (Pulumi: custom_role_arn "Required
        if using repository tags or KMS encryption"; AWS: repository-creation-templates-create-iam.html).

        Scan on push is not part of a template. Basic scan-on-push for replicated repositories would need
        the registry scanning configuration, which is one per account and region (each
        PutRegistryScanningConfiguration replaces the last): the staging and prod standbys share it, and
        writing it from a stack would also overwrite an account-wide Amazon Inspector (enhanced) setting.
        So this component doesn't set it: the replicas hold the same image digests that were scanned on push
        in the primary region, where findings are read. If eu-west-1 findings are wanted, one owner (like
        the replication owner) must write that configuration with filters for every environment.
        """
        args, name = self._args, self._name
        role_policy = pulumi.Output.all(args.account_id, self.kms_key.arn).apply(
            lambda values: json.dumps(platform_policies.replica_repository_role_policy(
                values[0], args.region, args.environment, values[1])))
        role = iam.Role(
            f"{name}-ecr-template", assume_role_policy=json.dumps(platform_policies.replica_repository_trust_policy()),
            permissions_boundary=self.permissions_boundary.arn,
            description=f"ECR repository creation template: replicated {args.environment}/ repositories",
            opts=self._child())
        role_permissions = iam.RolePolicy(f"{name}-ecr-template", role=role.id, policy=role_policy,
                                          opts=self._child())
        self.replica_repository_template = ecr.RepositoryCreationTemplate(
            f"{name}-replicas", prefix=args.environment, applied_fors=["REPLICATION"],
            description=f"Replicated {args.environment}/ repositories: settings of the primary's repositories",
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": self.kms_key.arn}],
            lifecycle_policy=lifecycle, resource_tags=dict(args.repository_tags), custom_role_arn=role.arn,
            # ECR must be able to use the role as soon as the template exists.
            opts=self._child(depends_on=[role_permissions]))

    # --- pull-through cache for the tracing collector ----------------------------------------

    def _collector_cache(self) -> None:
        """An ECR pull-through cache rule for ECR Public, so tasks pull the ADOT collector from this region's
        private registry, which the ecr.api/ecr.dkr endpoints and the S3 gateway reach with or without NAT.

        ECR Public needs no credentials for a rule (ECR user guide, pull-through-cache.html: "Amazon ECR
        Public, Kubernetes container image registry, and Quay (doesn't require authentication)"). The first
        pull of an image creates the repository `<prefix>/<upstream repository path>` and caches the image;
        the execution role may do that (iam_documents.PULL_THROUGH_CACHE_ACTIONS, admitted by the boundary).

        First pull without NAT: AWS documents that the *first* pull of an image through a pull-through
        cache rule over an interface VPC endpoint needs a route to the internet through a NAT gateway;
        "Subsequent image pulls don't require this" (ECR user guide, the considerations of
        pull-through-cache.html and of vpc-endpoints.html). So in a stack without NAT the collector tag must be pulled once from outside the
        VPC (an operator's or CI's `docker pull` of `collector_image_uri`) before its tasks can start; ECS
        keeps retrying the tasks until then. Stacks with NAT do that first pull from the task itself.
        The same holds after every change of ADOT_COLLECTOR_TAG.

        Repository creation template (appliedFor PULL_THROUGH_CACHE, same prefix), so the cached
        repository is created with IMMUTABLE tags: without it ECR creates a mutable repository and re-syncs
        the tag from upstream about once a day, so a re-pushed upstream `v0.50.0` would change what new tasks
        run; with immutable tags ECR "may not be able to update the cached images" (same page), which for a
        pinned release tag is the point. Left out on purpose:
          * KMS with the platform key and resource tags: both need a custom role ECR assumes (Pulumi:
            custom_role_arn "Required if using repository tags or KMS encryption"), i.e. another role and
            boundary statements in every stack, for a public image whose content is no secret; ECR's default
            AES-256 encryption at rest applies. Its storage (one image, both architectures) is a few cents a
            month that the cost tags won't attribute.
          * A lifecycle policy: the collector is a multi-architecture image, and a pull through the index tag
            caches the per-architecture images untagged (same page: "the manifest list and each image
            referenced in the manifest list are pulled"); an "expire untagged" rule could delete what the
            tag still references.
        The pack's ECR policies (immutable tags, scan on push) judge Pulumi-managed repositories only; this one
        is ECR-managed, which is why immutability comes from the template.
        """
        args, name = self._args, self._name
        self.collector_cache_rule = None
        self.collector_image_uri: Optional[pulumi.Output[str]] = None
        if not args.tracing:
            return
        template = ecr.RepositoryCreationTemplate(
            f"{name}-ecr-public-cache", prefix=self.pull_through_cache_prefix, applied_fors=["PULL_THROUGH_CACHE"],
            description=f"{args.environment}: ECR Public images cached through the pull-through cache rule",
            image_tag_mutability="IMMUTABLE", opts=self._child())
        # The template first: it shapes only repositories created after it exists.
        self.collector_cache_rule = ecr.PullThroughCacheRule(
            f"{name}-ecr-public-cache", ecr_repository_prefix=self.pull_through_cache_prefix,
            upstream_registry_url=ADOT_COLLECTOR_UPSTREAM_REGISTRY, opts=self._child(depends_on=[template]))
        # Built from the rule's own prefix, so everything that uses the URI (task definitions) follows the rule.
        self.collector_image_uri = pulumi.Output.all(
            args.account_id, self.collector_cache_rule.ecr_repository_prefix).apply(
            lambda values: regional_collector_image(values[0], args.region, values[1]))
