"""RegionalPlatform as the staging and prod stacks build it, read from the recorded registrations."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.cost.stack_budget import budget_name_problem
from components.mesh_service.container_definitions import regional_collector_image
from components.regional_platform.args import ALB_NAME
from components.regional_platform.endpoints import BASELINE_INTERFACE_ENDPOINTS, interface_endpoint_services
from components.regional_platform.load_balancer import ALB_SSL_POLICY, single_validation_record
from components.regional_platform.network import subnet_plan
from components.regional_platform.registries import pull_through_cache_prefix
from foundation.settings import load_catalog

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"


def outputs_of(preview, typ):
    return [r.outputs for r in preview.recorder.of_type(typ)]


def subnets(preview, tier):
    tiered = [r for r in preview.recorder.of_type(SUBNET) if r.inputs["tags"]["tier"] == tier]
    return sorted(tiered, key=lambda r: r.inputs["availabilityZone"])


@pytest.fixture(params=["staging", "prod"])
def platform(request):
    return request.getfixturevalue(request.param)


def test_every_required_endpoint_exists_in_the_stacks_own_vpc_and_region(platform):
    vpc = platform.recorder.one(VPC)
    region = platform.settings.region
    endpoints = platform.recorder.of_type(ENDPOINT)
    interface = {e.inputs["serviceName"].removeprefix(f"com.amazonaws.{region}."): e
                 for e in endpoints if e.inputs["vpcEndpointType"] == "Interface"}
    if platform.settings.config.network.endpoint_az_count:
        assert set(BASELINE_INTERFACE_ENDPOINTS) <= set(interface)
    else:  # staging: its NAT gateway reaches the AWS APIs, endpoints would cost more (docs/cost-model.md)
        assert platform.recorder.of_type("aws:ec2/natGateway:NatGateway") and interface == {}
    for endpoint in endpoints:
        assert endpoint.inputs["vpcId"] == vpc.outputs["id"]
        assert endpoint.property_dependencies["vpcId"] == [vpc.urn]
    for endpoint in interface.values():
        assert endpoint.inputs["privateDnsEnabled"] is True
    gateway = [e for e in endpoints if e.inputs["vpcEndpointType"] == "Gateway"]
    assert [g.inputs["serviceName"] for g in gateway] == [f"com.amazonaws.{region}.s3"]


def test_vpc_has_dns_support_and_hostnames_for_private_dns_endpoints(platform):
    vpc = platform.recorder.one(VPC)
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True


def test_without_nat_the_tasks_get_service_connect_and_tracing_endpoints(staging):
    # No committed stack runs without NAT (staging's cost levers chose one NAT gateway); build staging's
    # platform alone with natStrategy none.
    from dataclasses import replace

    from components.regional_platform import RegionalPlatform
    from devkit.mocks import run_program
    from foundation.stack import platform_args

    args = replace(platform_args(staging.settings, staging.settings.account_id), nat_strategy="none",
                   endpoint_az_count=1, tracing=True)
    recorder, _ = run_program(lambda: RegionalPlatform("nat-less", args), project="microservices-foundation",
                              stack="staging", region="eu-central-1")
    services = {e.inputs["serviceName"].split("eu-central-1.")[1] for e in recorder.of_type(ENDPOINT)}
    assert {"ecs-agent", "ecs-telemetry", "ecs", "xray", *BASELINE_INTERFACE_ENDPOINTS} <= services
    assert recorder.of_type("aws:ec2/natGateway:NatGateway") == []


def test_with_nat_only_the_baseline_interface_endpoints_are_paid_for(prod):
    interface = [e for e in prod.recorder.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert len(interface) == len(BASELINE_INTERFACE_ENDPOINTS)


@pytest.mark.parametrize("nat", ["none", "single", "one-per-az"])
@pytest.mark.parametrize("tracing", [True, False])
def test_without_nat_every_api_a_task_calls_gets_an_interface_endpoint(nat, tracing):
    services = interface_endpoint_services(nat, service_connect=True, tracing=tracing)
    assert set(BASELINE_INTERFACE_ENDPOINTS) <= set(services)
    if nat == "none":
        assert {"ecs-agent", "ecs-telemetry", "ecs"} <= set(services)
        assert ("xray" in services) == tracing
    else:
        assert set(services) == set(BASELINE_INTERFACE_ENDPOINTS)


@pytest.fixture(params=["staging", "staging_standby", "prod", "prod_standby"])
def any_stack(request):
    return request.getfixturevalue(request.param)


def image_registries(preview):
    return {container["image"].split("/", 1)[0]
            for task in preview.recorder.of_type("aws:ecs/taskDefinition:TaskDefinition")
            for container in json.loads(task.inputs["containerDefinitions"])}


def test_every_image_a_task_pulls_is_in_the_stacks_own_private_registry(any_stack):
    # The one registry the ecr.api/ecr.dkr endpoints (and the S3 gateway, for layers) reach without NAT:
    # ECR Public has no VPC endpoint, so the collector comes through the regional pull-through cache.
    region = any_stack.settings.region
    assert image_registries(any_stack) == {f"123456789012.dkr.ecr.{region}.amazonaws.com"}
    endpoints = {e.inputs["serviceName"] for e in any_stack.recorder.of_type(ENDPOINT)}
    needed = {f"com.amazonaws.{region}.s3"}
    if any_stack.settings.config.network.endpoint_az_count:
        needed |= {f"com.amazonaws.{region}.ecr.api", f"com.amazonaws.{region}.ecr.dkr"}
    assert needed <= endpoints


def test_each_stack_caches_ecr_public_under_its_own_prefix_in_its_own_region(any_stack):
    settings = any_stack.settings
    prefix = pull_through_cache_prefix(settings.environment)
    if not settings.config.tracing.enabled:  # no collector sidecar, nothing to cache (staging, for cost)
        assert any_stack.recorder.of_type(RULE) == []
        return
    rule = any_stack.recorder.one(RULE)
    assert rule.inputs == {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": "public.ecr.aws"}
    assert rule.provider_region == settings.region and "region" not in rule.inputs
    template = next(t for t in any_stack.recorder.of_type(TEMPLATE) if t.inputs["appliedFors"] == ["PULL_THROUGH_CACHE"])
    assert template.inputs["prefix"] == prefix and template.inputs["imageTagMutability"] == "IMMUTABLE"
    assert template.urn in rule.dependencies  # the template shapes only repositories created after it exists
    collector = regional_collector_image("123456789012", settings.region, prefix)
    for task in any_stack.recorder.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        sidecar = next(c for c in json.loads(task.inputs["containerDefinitions"]) if c["name"] == "aws-otel-collector")
        assert sidecar["image"] == collector
        assert rule.urn in task.dependencies


def test_stacks_sharing_a_registry_never_own_the_same_pull_through_cache_rule(staging, prod, staging_standby,
                                                                              prod_standby):
    # A rule is per registry (account and region) and prefix; staging and prod share account and regions.
    owners = {}
    for preview in (staging, prod, staging_standby, prod_standby):
        if not preview.settings.config.tracing.enabled:
            continue
        rule = preview.recorder.one(RULE)
        key = (preview.settings.account_id, preview.settings.region, rule.inputs["ecrRepositoryPrefix"])
        assert key not in owners, (preview.stack, owners.get(key))
        owners[key] = preview.stack
    # ECR appends "/" to a prefix, so no environment's cache prefix covers another's repositories.
    for environment in ("staging", "prod"):
        assert not f"{environment}/auth".startswith(pull_through_cache_prefix("prod") + "/")
        assert not f"{environment}/auth".startswith(pull_through_cache_prefix("staging") + "/")


@pytest.mark.parametrize("environment, valid", [("prod", True), ("staging", True), ("Prod", False),
                                                ("a" * 20, False), ("qa_", False)])
def test_pull_through_cache_prefix_follows_the_api_pattern_and_length(environment, valid):
    if valid:
        assert pull_through_cache_prefix(environment) == f"{environment}-ecr-public"
    else:
        with pytest.raises(ValueError, match="CreatePullThroughCacheRule"):
            pull_through_cache_prefix(environment)


def test_interface_endpoints_live_in_the_configured_number_of_private_subnets(platform):
    private_ids = [s.outputs["id"] for s in subnets(platform, "private")]
    wanted = platform.settings.config.network.endpoint_az_count
    for endpoint in platform.recorder.of_type(ENDPOINT):
        if endpoint.inputs["vpcEndpointType"] == "Interface":
            assert endpoint.inputs["subnetIds"] == private_ids[:wanted]


def test_s3_gateway_endpoint_is_on_every_private_route_table(platform):
    gateway = next(e for e in platform.recorder.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Gateway")
    private_tables = [r.outputs["id"] for r in platform.recorder.of_type("aws:ec2/routeTable:RouteTable")
                      if "-private-" in r.name]
    assert sorted(gateway.inputs["routeTableIds"]) == sorted(private_tables)
    assert len(private_tables) == platform.settings.config.network.az_count


def test_endpoint_security_group_admits_only_https_from_the_vpc(platform):
    rules = [r for r in platform.recorder.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.name.endswith("-endpoints-https")]
    assert len(rules) == 1
    rule = rules[0].inputs
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (443, 443, "tcp")
    assert rule["cidrIpv4"] == str(platform.settings.config.network.vpc_cidr)


def test_no_subnet_gives_public_ips_and_subnets_follow_the_plan(platform):
    network = platform.settings.config.network
    private_plan, public_plan = subnet_plan(str(network.vpc_cidr), network.az_count)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in platform.recorder.of_type(SUBNET))
    assert [s.inputs["cidrBlock"] for s in subnets(platform, "private")] == private_plan
    assert [s.inputs["cidrBlock"] for s in subnets(platform, "public")] == public_plan
    zones = {s.inputs["availabilityZone"] for s in subnets(platform, "private")}
    assert len(zones) == network.az_count


def test_subnet_plan_never_overlaps_and_stays_inside_the_vpc():
    for cidr in ["10.0.0.0/16", "10.0.0.0/18"]:
        private, public = subnet_plan(cidr, 3)
        networks = [ipaddress.ip_network(n) for n in private + public]
        assert all(n.subnet_of(ipaddress.ip_network(cidr)) for n in networks)
        assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1:])


def test_nat_gateways_follow_the_strategy(staging, prod):
    # Both run one NAT gateway next to the seeds' interface endpoints (docs/cost-model.md).
    for preview in (staging, prod):
        assert preview.settings.config.network.nat_strategy == "single"
        nats = preview.recorder.of_type("aws:ec2/natGateway:NatGateway")
        public_ids = {s.outputs["id"] for s in subnets(preview, "public")}
        assert len(nats) == 1 and nats[0].inputs["subnetId"] in public_ids
        nat_routes = [r for r in preview.recorder.of_type("aws:ec2/route:Route") if r.inputs.get("natGatewayId")]
        assert nat_routes and {r.inputs["natGatewayId"] for r in nat_routes} == {nats[0].outputs["id"]}


def test_alb_lives_only_in_public_subnets(platform):
    alb = platform.recorder.one("aws:lb/loadBalancer:LoadBalancer")
    assert sorted(alb.inputs["subnets"]) == sorted(s.outputs["id"] for s in subnets(platform, "public"))
    assert alb.inputs["internal"] is False and alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert len(alb.inputs["name"]) <= 32


def platform_name(preview) -> str:
    """The RegionalPlatform's name: its key and buckets are named after it (other components have their own)."""
    return f"{preview.settings.environment}-{preview.settings.region}"


def test_alb_writes_access_logs_to_a_bucket_it_may_write_to(platform):
    alb = platform.recorder.one("aws:lb/loadBalancer:LoadBalancer")
    bucket = platform.recorder.one("aws:s3/bucket:Bucket", platform_name(platform) + "-alb-logs")
    policy = platform.recorder.one("aws:s3/bucketPolicy:BucketPolicy", platform_name(platform) + "-alb-logs")
    assert alb.inputs["accessLogs"] == {"bucket": bucket.outputs["bucket"], "enabled": True, "prefix": "alb"}
    assert policy.urn in alb.dependencies  # ELB validates the bucket when logging is switched on
    allow = json.loads(policy.inputs["policy"])["Statement"][0]
    assert allow["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert allow["Resource"] == f"{bucket.outputs['arn']}/alb/AWSLogs/123456789012/*"
    encryption = platform.recorder.one("aws:s3/bucketServerSideEncryptionConfiguration:"
                                       "BucketServerSideEncryptionConfiguration", platform_name(platform) + "-alb-logs")
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_deletion_protection_only_in_prod(staging, prod):
    assert staging.recorder.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is False
    assert prod.recorder.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True


def test_without_a_domain_only_an_http_listener_answers_404(minimal_staging_standby):
    # (staging's primary forwards unrouted requests to its legacy Lambda instead: tests/test_legacy_route.py)
    listeners = minimal_staging_standby.recorder.of_type("aws:lb/listener:Listener")
    assert [(item.inputs["port"], item.inputs["protocol"]) for item in listeners] == [(80, "HTTP")]
    action = listeners[0].inputs["defaultActions"][0]
    assert action["type"] == "fixed-response" and action["fixedResponse"]["statusCode"] == "404"


def test_with_a_domain_https_serves_and_http_redirects(prod):
    listeners = {item.inputs["port"]: item.inputs for item in prod.recorder.of_type("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["sslPolicy"] == ALB_SSL_POLICY
    assert listeners[443]["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"}
    validation = prod.recorder.one("aws:acm/certificateValidation:CertificateValidation")
    assert listeners[443]["certificateArn"] == validation.inputs["certificateArn"]
    record = prod.recorder.one("aws:route53/record:Record", "prod-eu-central-1-certificate-validation")
    assert record.inputs["zoneId"] == prod.settings.config.dns.hosted_zone_id


def test_alb_security_group_is_open_only_on_its_listener_ports(staging, prod, minimal_staging_standby):
    for preview, ports in ((minimal_staging_standby, [80]), (staging, [80, 443]), (prod, [80, 443])):
        rules = [r.inputs for r in preview.recorder.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                 if r.inputs.get("cidrIpv4") == "0.0.0.0/0"]
        assert sorted(r["fromPort"] for r in rules) == ports


def test_cluster_has_its_environments_container_insights_and_both_fargate_capacity_providers(platform):
    cluster = platform.recorder.one("aws:ecs/cluster:Cluster")
    insights = {s["name"]: s["value"] for s in cluster.inputs["settings"]}["containerInsights"]
    assert insights == platform.settings.defaults.container_insights
    namespace = platform.recorder.one("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")
    assert namespace.inputs["name"] == "svc.local"
    assert namespace.inputs["vpc"] == platform.recorder.one(VPC).outputs["id"]
    assert cluster.inputs["serviceConnectDefaults"]["namespace"] == namespace.outputs["arn"]
    capacity = platform.recorder.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert sorted(capacity.inputs["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]


def test_services_run_on_spot_exactly_when_the_catalog_says_they_are_interruptible(staging, prod):
    catalog = load_catalog().services
    for preview in (staging, prod):
        for service in preview.recorder.of_type("aws:ecs/service:Service"):
            providers = {s["capacityProvider"] for s in service.inputs["capacityProviderStrategies"]}
            assert ("FARGATE_SPOT" in providers) == catalog[service.inputs["name"]].interruptible, service.name


def test_each_catalog_service_has_a_hardened_repository(platform):
    repositories = {r.inputs["name"]: r for r in platform.recorder.of_type("aws:ecr/repository:Repository")}
    expected = {f"{platform.settings.environment}/{s.name}" for s in platform.settings.services}
    assert set(repositories) == expected
    key = platform.recorder.one("aws:kms/key:Key", platform_name(platform) + "-key")
    for repository in repositories.values():
        assert repository.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repository.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key.outputs["arn"]}]
    for lifecycle in platform.recorder.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        rules = json.loads(lifecycle.inputs["policy"])["rules"]
        untagged, tagged = rules
        assert untagged["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                         "countUnit": "days", "countNumber": 7}
        assert tagged["selection"]["countType"] == "imageCountMoreThan" and tagged["selection"]["countNumber"] == 30


def test_platform_key_rotates_and_logs_may_use_it(platform):
    key = platform.recorder.one("aws:kms/key:Key", platform_name(platform) + "-key")
    assert key.inputs["enableKeyRotation"] is True
    statements = json.loads(key.inputs["policy"])["Statement"]
    logs = next(s for s in statements if s["Principal"].get("Service", "").startswith("logs."))
    assert logs["Principal"]["Service"] == f"logs.{platform.settings.region}.amazonaws.com"


def platform_boundary(preview):
    return preview.recorder.one("aws:iam/policy:Policy",
                                f"{preview.settings.environment}-{preview.settings.region}-boundary")


def test_every_role_carries_the_platform_boundary_or_a_failover_boundary_of_its_family(platform):
    boundary = platform_boundary(platform).outputs["arn"]
    family = f"{platform.settings.environment}-{platform.settings.region}-boundary-"
    own = {p.outputs["arn"] for p in platform.recorder.of_type("aws:iam/policy:Policy")
           if str(p.inputs.get("name", "")).startswith(family)}
    roles = platform.recorder.of_type("aws:iam/role:Role")
    failover = [r for r in roles if ":failover:" in (r.parent or "")]
    assert roles and all(r.inputs["permissionsBoundary"] == boundary for r in roles if r not in failover)
    # The Region switch roles act across both regions (components/failover): boundaries of their own, in the
    # family the deploy role requires.
    assert all(r.inputs["permissionsBoundary"] in own for r in failover)
    assert bool(failover) == bool(platform.settings.config.dns or platform.settings.outbox_pipe_names)


def test_service_connect_tls_ca_exists_only_where_tls_is_on(staging, prod):
    assert staging.recorder.of_type("aws:acmpca/certificateAuthority:CertificateAuthority") == []
    authority = prod.recorder.one("aws:acmpca/certificateAuthority:CertificateAuthority")
    assert authority.inputs["usageMode"] == "SHORT_LIVED_CERTIFICATE" and authority.inputs["type"] == "ROOT"
    assert authority.inputs["tags"] == {"AmazonECSManaged": "true"}
    algorithm = authority.inputs["certificateAuthorityConfiguration"]
    assert (algorithm["keyAlgorithm"], algorithm["signingAlgorithm"]) == ("EC_prime256v1", "SHA256WITHECDSA")
    installed = prod.recorder.one("aws:acmpca/certificateAuthorityCertificate:CertificateAuthorityCertificate")
    assert installed.inputs["certificateAuthorityArn"] == authority.outputs["arn"]


def test_provider_puts_the_cost_tags_on_everything(platform):
    provider = platform.recorder.one("pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    settings = platform.settings
    assert tags == {"environment": settings.environment, "cost-center": settings.config.tags.cost_center,
                    "owner": settings.config.tags.owner, "managed-by": "pulumi",
                    "project": "microservices-foundation", "region-role": settings.role}
    assert provider.inputs["region"] == settings.region
    aws_resources = [r for r in platform.recorder.resources if r.type.startswith("aws:")]
    assert all(r.provider and r.provider.startswith(provider.urn) for r in aws_resources)


def test_every_aws_resource_is_the_child_of_a_component(platform):
    by_urn = {r.urn: r for r in platform.recorder.resources}
    orphans = [r.urn for r in platform.recorder.resources
               if r.type.startswith("aws:") and (r.parent not in by_urn or by_urn[r.parent].custom)]
    assert orphans == []


def test_each_stack_has_a_monthly_budget_scoped_to_its_environment_and_region(staging, prod):
    for preview in (staging, prod):
        budget = preview.recorder.one("aws:budgets/budget:Budget")
        settings = preview.settings
        assert budget.inputs["limitUnit"] == "USD" and budget.inputs["timeUnit"] == "MONTHLY"
        assert float(budget.inputs["limitAmount"]) > settings.config.budget.monthly_eur  # EUR -> USD
        assert budget.inputs["costFilters"] == [
            {"name": "TagKeyValue", "values": [f"user:environment${settings.environment}"]},
            {"name": "Region", "values": [settings.region]}]
    prod_notifications = prod.recorder.one("aws:budgets/budget:Budget").inputs["notifications"]
    assert {n["notificationType"] for n in prod_notifications} == {"ACTUAL", "FORECASTED"}
    assert all(n["subscriberEmailAddresses"] == ["platform-oncall@example.com"] for n in prod_notifications)
    # Every budget also notifies a topic of its stack, so none notifies nobody: the alert topic, except
    # staging's ACTUAL 100 %, which goes to the scale-down topic (components/cost/budget_scale_down.py).
    for preview in (staging, prod):
        arns = {t.inputs["name"]: t.outputs["arn"] for t in preview.recorder.of_type("aws:sns/topic:Topic")}
        prefix = preview.settings.name_prefix
        notifications = preview.recorder.one("aws:budgets/budget:Budget").inputs["notifications"]
        breach = f"{prefix}-budget-scale-down" if preview is staging else f"{prefix}-alerts"
        assert {(n["notificationType"], n["threshold"]): n["subscriberSnsTopicArns"] for n in notifications} == {
            ("FORECASTED", 80): [arns[f"{prefix}-alerts"]], ("ACTUAL", 95): [arns[f"{prefix}-alerts"]],
            ("ACTUAL", 100): [arns[breach]]}


# --- standby side, names and validation records ----------------------------------------------------

def test_only_the_primary_writes_the_shared_certificate_validation_record(prod, prod_standby):
    # ACM's validation CNAME is the same in every region; the standby must not own (and on tear-down
    # delete) the record the primary's certificate renewals depend on.
    primary_validation = prod.recorder.one("aws:acm/certificateValidation:CertificateValidation")
    record = prod.recorder.one("aws:route53/record:Record", "prod-eu-central-1-certificate-validation")
    assert primary_validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    validation_records = [r for r in prod_standby.recorder.of_type("aws:route53/record:Record")
                          if r.inputs.get("type") == "CNAME"]
    assert validation_records == []
    standby_validation = prod_standby.recorder.one("aws:acm/certificateValidation:CertificateValidation")
    assert not standby_validation.inputs.get("validationRecordFqdns")
    certificate = prod_standby.recorder.one("aws:acm/certificate:Certificate")
    assert standby_validation.inputs["certificateArn"] == certificate.outputs["arn"]


def test_standby_uses_the_replicated_repositories_instead_of_creating_them(prod_standby):
    assert prod_standby.recorder.of_type("aws:ecr/repository:Repository") == []
    assert prod_standby.recorder.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy") == []
    region = prod_standby.settings.region
    urls = prod_standby.outputs["repositoryUrls"]
    assert urls == {s.name: f"123456789012.dkr.ecr.{region}.amazonaws.com/prod/{s.name}"
                    for s in prod_standby.settings.services}


def test_only_the_standby_boundary_admits_the_aws_managed_secret_replica_key(prod, prod_standby):
    def sids(preview):
        return {s["Sid"] for s in json.loads(platform_boundary(preview).inputs["policy"])["Statement"]}

    assert "DecryptSecretReplicasThroughSecretsManager" in sids(prod_standby)
    assert "DecryptSecretReplicasThroughSecretsManager" not in sids(prod)


def option(domain, name="_abc.platform.example.com.", value="_def.acm-validations.aws."):
    return {"domain_name": domain, "resource_record_name": name, "resource_record_type": "CNAME",
            "resource_record_value": value}


def test_apex_and_wildcard_share_the_one_validation_record():
    record = single_validation_record([option("*.platform.example.com"), option("platform.example.com")],
                                      "platform.example.com")
    assert record == {"name": "_abc.platform.example.com.", "type": "CNAME", "value": "_def.acm-validations.aws."}


@pytest.mark.parametrize("options", [
    [option("platform.example.com"), option("*.platform.example.com", name="_other.platform.example.com.")],
    [option("platform.example.com"), option("api.other.example.com")],
    [option("*.platform.example.com")],
])
def test_a_certificate_needing_another_validation_record_is_refused(options):
    with pytest.raises(ValueError, match="validation records"):
        single_validation_record(options, "platform.example.com")


@pytest.mark.parametrize("name,valid", [
    ("prod-euc1-platform", True), ("staging-euw1-platform", True), ("a" * 32, True), ("a" * 33, False),
    ("-prod", False), ("prod-", False), ("internal-prod", False), ("prod_euc1", False),
])
def test_alb_name_rule(name, valid):
    assert bool(ALB_NAME.match(name)) is valid


@pytest.mark.parametrize("name,valid", [
    ("microservices-foundation-prod-euw1", True), ("x" * 100, True), ("x" * 101, False), ("", False),
    ("a:b", False), ("a\\b", False),
])
def test_budget_name_rule(name, valid):
    assert (budget_name_problem(name) is None) is valid
