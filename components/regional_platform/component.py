"""RegionalPlatform: everything the services of one stack share in one region.

Network (network.py), the platform KMS key, the permissions boundary every role carries and the Service
Connect TLS certificate authority with its infrastructure role (here), the ECS cluster and its Service
Connect namespace (here), the public ALB (load_balancer.py), ECR repositories and the collector's
pull-through cache (registries.py). What services receive is one object, `refs` (components/core/contract.py).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws.acmpca as acmpca
import pulumi_aws.ecs as ecs
import pulumi_aws.iam as iam
import pulumi_aws.kms as kms
import pulumi_aws.servicediscovery as servicediscovery

from components.core.contract import ClusterRefs, LoadBalancerRefs, NetworkRefs, PlatformRefs, ServiceConnectTlsRefs
from components.regional_platform import platform_iam
from components.regional_platform.args import RegionalPlatformArgs
from components.regional_platform.load_balancer import LoadBalancer, create_load_balancers
from components.regional_platform.network import create_network
from components.regional_platform.registries import (
    create_collector_cache,
    create_repositories,
    pull_through_cache_prefix,
)

COMPONENT_TYPE = "microservices:platform:RegionalPlatform"
NAMESPACE_NAME = "svc.local"


class RegionalPlatform(pulumi.ComponentResource):
    refs: PlatformRefs
    """What a service receives from its region (the platform contract)."""
    vpc_id: pulumi.Output[str]
    """The VPC of the region."""
    cluster_arn: pulumi.Output[str]
    """The ECS cluster every service of the stack runs in."""
    alb_dns_name: pulumi.Output[str]
    """The public ALB's DNS name (failover records alias it)."""
    kms_key_arn: pulumi.Output[str]
    """The platform key."""
    collector_image_uri: pulumi.Output[str] | None
    """The tracing collector image in the regional pull-through cache (None without tracing)."""

    def __init__(self, name: str, args: RegionalPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        self._args = args
        self.pull_through_cache_prefix = pull_through_cache_prefix(args.environment)

        self.network = create_network(name, args, self._child)
        self._key_and_boundary_and_tls()
        self._cluster()
        self.load_balancers = create_load_balancers(
            name, args, vpc_id=self.network.vpc.id, public_subnet_ids=[s.id for s in self.network.public_subnets],
            child=self._child)
        repositories = create_repositories(
            name, args, kms_key_arn=self.kms_key.arn, permissions_boundary_arn=self.permissions_boundary.arn,
            child=self._child)
        self.collector_image_uri = create_collector_cache(name, args, self.pull_through_cache_prefix, self._child)

        self.load_balancer = self.load_balancers[0]
        network, balancer = self.network, self.load_balancer
        tls = None
        if self.certificate_authority is not None and self.service_connect_tls_role is not None:
            tls = ServiceConnectTlsRefs(certificate_authority_arn=self.certificate_authority.arn,
                                        role_arn=self.service_connect_tls_role.arn, kms_key_arn=self.kms_key.arn,
                                        depends_on=tuple(self.service_connect_tls_dependencies))
        self.refs = PlatformRefs(
            environment=args.environment, region=args.region, role=args.role, account_id=args.account_id,
            network=NetworkRefs(
                vpc_id=network.vpc.id, vpc_cidr=network.vpc.cidr_block, has_nat=args.nat_strategy != "none",
                s3_prefix_list_id=network.s3_gateway.prefix_list_id,
                private_subnet_ids=pulumi.Output.all(*[s.id for s in network.private_subnets]),
                public_subnet_ids=pulumi.Output.all(*[s.id for s in network.public_subnets])),
            cluster=ClusterRefs(
                arn=self.cluster.arn, name=self.cluster.name,
                capacity_provider_strategy=args.capacity.provider_strategy(),
                namespace_id=self.namespace.id, namespace_arn=self.namespace.arn, namespace_name=NAMESPACE_NAME,
                depends_on=(self.capacity_providers,)),
            load_balancer=self._load_balancer_refs(balancer),
            load_balancers=tuple(self._load_balancer_refs(each) for each in self.load_balancers),
            kms_key_arn=self.kms_key.arn,
            permissions_boundary_arn=self.permissions_boundary.arn,
            service_connect_tls=tls,
            repositories=repositories,
            collector_image_uri=self.collector_image_uri,
        )
        self.vpc_id = network.vpc.id
        self.cluster_arn = self.cluster.arn
        self.alb_dns_name = balancer.alb.dns_name
        self.kms_key_arn = self.kms_key.arn
        self.register_outputs({
            "vpcId": self.vpc_id, "clusterArn": self.cluster_arn, "albDnsName": self.alb_dns_name,
            "kmsKeyArn": self.kms_key_arn, "collectorImageUri": self.collector_image_uri,
        })

    def _load_balancer_refs(self, balancer: LoadBalancer) -> LoadBalancerRefs:
        return LoadBalancerRefs(
            arn=balancer.alb.arn, arn_suffix=balancer.alb.arn_suffix, dns_name=balancer.alb.dns_name,
            zone_id=balancer.alb.zone_id, security_group_id=balancer.security_group.id,
            routing_listener_arn=balancer.routing_listener.arn, http_listener_arn=balancer.http_listener.arn,
            https_listener_arn=balancer.https_listener.arn if balancer.https_listener else None,
            deployment_role_arn=self.load_balancer_role.arn,
            depends_on=tuple(self.load_balancer_role_dependencies))

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    # --- key, boundary, Service Connect TLS --------------------------------------------------

    def _key_and_boundary_and_tls(self) -> None:
        args, name = self._args, self._name
        key_policy = pulumi.Output.from_input(args.account_id).apply(
            lambda account: json.dumps(platform_iam.kms_key_policy(
                account, args.region, args.alert_topic_name, args.budget_scale_down_name)))
        self.kms_key = kms.Key(
            f"{name}-key", description=f"{args.environment} platform key ({args.region}): logs, ECR, secrets",
            key_usage="ENCRYPT_DECRYPT", customer_master_key_spec="SYMMETRIC_DEFAULT", enable_key_rotation=True,
            deletion_window_in_days=30, policy=key_policy, opts=self._child())
        kms.Alias(f"{name}-key", name=f"alias/{args.environment}-platform", target_key_id=self.kms_key.key_id,
                  opts=self._child())

        self.certificate_authority = None
        if args.service_connect_tls:
            self.certificate_authority = self._service_connect_ca()

        ca_arn = self.certificate_authority.arn if self.certificate_authority else None
        boundary = pulumi.Output.all(args.account_id, self.kms_key.arn, ca_arn).apply(
            lambda values: json.dumps(platform_iam.permissions_boundary(
                values[0], args.region, args.environment, values[1], args.alb_name, values[2],
                pull_through_cache_prefix=self.pull_through_cache_prefix,
                reads_replica_secrets=args.role == "standby",
                creates_replica_repositories=args.role == "standby", more_alb_names=args.alb_names[1:],
                budget_scale_down_name=args.budget_scale_down_name)))
        self.permissions_boundary = iam.Policy(
            f"{name}-boundary", description=f"Permissions boundary of every {args.environment} platform role "
                                            f"in {args.region}", policy=boundary, opts=self._child())

        trust = json.dumps(platform_iam.ecs_infrastructure_trust_policy())
        # ECS shifts canary/linear traffic on the ALB through this role.
        self.load_balancer_role = iam.Role(
            f"{name}-ecs-lb", assume_role_policy=trust, permissions_boundary=self.permissions_boundary.arn,
            description="ECS infrastructure role: canary/linear traffic shifts on the platform ALB",
            opts=self._child())
        load_balancer_policy = iam.RolePolicyAttachment(
            f"{name}-ecs-lb", role=self.load_balancer_role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers", opts=self._child())
        # Services must be created after, and deleted before, what their deployments rely on.
        self.load_balancer_role_dependencies = [self.load_balancer_role, load_balancer_policy]

        self.service_connect_tls_role = None
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
                               lambda arn: json.dumps(platform_iam.service_connect_tls_key_policy(arn))),
                           opts=self._child())
            self.service_connect_tls_role = tls_role
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
            f"{name}-namespace", name=NAMESPACE_NAME, vpc=self.network.vpc.id,
            description=f"Service Connect namespace of {args.environment} in {args.region}", opts=self._child())
        self.cluster = ecs.Cluster(
            f"{name}-cluster", settings=[{"name": "containerInsights", "value": args.container_insights}],
            service_connect_defaults={"namespace": self.namespace.arn}, opts=self._child())
        capacity = args.capacity
        self.capacity_providers = ecs.ClusterCapacityProviders(
            f"{name}-capacity", cluster_name=self.cluster.name, capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=capacity.provider_strategy(), opts=self._child())
