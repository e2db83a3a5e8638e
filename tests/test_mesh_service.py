import json
import re
from dataclasses import replace

import pulumi
import pulumi_aws.iam as iam
import pytest

from components.core.contract import (
    ClusterRefs,
    LoadBalancerRefs,
    NetworkRefs,
    PlatformRefs,
    RepositoryRefs,
    ServiceConnectTlsRefs,
)
from components.mesh_service import (
    DEFAULT_SERVICE_CONNECT_INGRESS_PORT,
    AlarmThresholds,
    DeploymentSettings,
    MeshService,
    MeshServiceArgs,
    ServiceDefinition,
    ServiceOperations,
    Timeouts,
)
from components.mesh_service.clients import COMPONENT_TYPE as CLIENTS_COMPONENT
from components.mesh_service.clients import ServiceClientGroups, ServiceClientGroupsArgs
from components.mesh_service.container_definitions import ADOT_COLLECTOR_PORTS
from components.mesh_service.service_iam import WILDCARD_ONLY_ACTIONS
from components.mesh_service.sizing import SizingError
from devkit.mocks import ACCOUNT_ID, run_program
from tests.ecs_api import register_task_definition_problems

REGION = "eu-central-1"
ARN_BASE = f"{REGION}:{ACCOUNT_ID}"
KMS_KEY = f"arn:aws:kms:{ARN_BASE}:key/platform"
CA = f"arn:aws:acm-pca:{ARN_BASE}:certificate-authority/sc"
LISTENER = f"arn:aws:elasticloadbalancing:{ARN_BASE}:listener/app/prod-euc1-platform/0123456789abcdef/fedcba9876543210"
ALB_SUFFIX = "app/prod-euc1-platform/0123456789abcdef"
BOUNDARY = f"arn:aws:iam::{ACCOUNT_ID}:policy/platform-boundary"
COLLECTOR_REPOSITORY = "prod-ecr-public/aws-observability/aws-otel-collector"
COLLECTOR = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{COLLECTOR_REPOSITORY}:v0.50.0"


def deployment(**overrides) -> DeploymentSettings:
    values = dict(strategy="CANARY", canary_percent=5.0, canary_bake_minutes=10, step_percent=25.0,
                  step_bake_minutes=6, bake_time_minutes=15)
    values.update(overrides)
    return DeploymentSettings(**values)

SERVICE = "aws:ecs/service:Service"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPONENT = "microservices:platform:MeshService"


def platform_refs(name: str, *, environment: str = "prod", tls_role: pulumi.Input[str] = "", tls_dependencies=(),
                  tls: bool = True, collector_image_uri=COLLECTOR) -> PlatformRefs:
    """The contract as a RegionalPlatform of prod in eu-central-1 would hand it over."""
    return PlatformRefs(
        environment=environment, region=REGION, role="primary", account_id=ACCOUNT_ID,
        network=NetworkRefs(vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.0.0.0/16",
                            private_subnet_ids=["subnet-a", "subnet-b"], public_subnet_ids=["subnet-c", "subnet-d"]),
        cluster=ClusterRefs(arn=f"arn:aws:ecs:{ARN_BASE}:cluster/prod-euc1", name="prod-euc1",
                            capacity_provider_strategy=[{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                                                        {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3}],
                            namespace_id="ns-0123456789abcdef",
                            namespace_arn=f"arn:aws:servicediscovery:{ARN_BASE}:namespace/ns-0123456789abcdef",
                            namespace_name="svc.local"),
        load_balancer=LoadBalancerRefs(
            arn=f"arn:aws:elasticloadbalancing:{ARN_BASE}:loadbalancer/{ALB_SUFFIX}", arn_suffix=ALB_SUFFIX,
            dns_name="prod-euc1-platform-1.eu-central-1.elb.amazonaws.com", zone_id="Z215JYRZR1TBD5",
            security_group_id="sg-0a1b2c3d4e5f60718", routing_listener_arn=LISTENER, http_listener_arn=LISTENER,
            https_listener_arn=None, deployment_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/ecs-lb"),
        kms_key_arn=KMS_KEY, permissions_boundary_arn=BOUNDARY,
        service_connect_tls=ServiceConnectTlsRefs(
            certificate_authority_arn=CA, role_arn=tls_role or f"arn:aws:iam::{ACCOUNT_ID}:role/sc-tls",
            kms_key_arn=KMS_KEY, depends_on=tuple(tls_dependencies)) if tls else None,
        repositories={name: RepositoryRefs(name=f"{environment}/{name}",
                                           url=f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{environment}/{name}",
                                           arn=f"arn:aws:ecr:{ARN_BASE}:repository/{environment}/{name}")},
        collector_image_uri=collector_image_uri)


SERVICE_FIELDS = {"health_path", "cpu", "memory", "architecture", "min_tasks", "max_tasks", "image", "path_prefix",
                  "listener_rule_priority", "calls", "secrets", "config"}
OPERATIONS_FIELDS = {"tracing_enabled", "trace_sampling_ratio", "log_retention_days", "timeouts", "deployment",
                     "alarm_thresholds", "scaling"}
PLATFORM_FIELDS = {"environment", "tls_role", "tls_dependencies", "tls", "collector_image_uri"}


def service_args(name: str, port: int, *, routed: bool = False, **overrides) -> MeshServiceArgs:
    """A prod service's args; each override goes to the object that owns the field."""
    service = dict(name=name, port=port, health_path="/health", cpu=512, memory=1024, architecture="ARM64",
                   min_tasks=2, max_tasks=8, image="1.4.2", config={"LOG_LEVEL": "info", "FEATURE_FLAGS": "checkout-v2"},
                   )
    if routed:
        service.update(path_prefix=f"/api/{name}", listener_rule_priority=110)
    operations = dict(tracing_enabled=True, trace_sampling_ratio=0.1, log_retention_days=365,
                      timeouts=Timeouts(per_request_seconds=15, idle_seconds=300, http_client_seconds=10),
                      deployment=deployment(),
                      alarm_thresholds=AlarmThresholds(error_rate_percent=5.0, p95_latency_ms=1000.0))
    platform: dict = {}
    args = dict(secret_arns={"DATABASE_URL": f"arn:aws:secretsmanager:{ARN_BASE}:secret:prod/{name}/db-AbCdEf"})
    for key, value in overrides.items():
        target = (service if key in SERVICE_FIELDS else operations if key in OPERATIONS_FIELDS
                  else platform if key in PLATFORM_FIELDS else args)
        target[key] = value
    return MeshServiceArgs(platform=platform_refs(name, **platform), service=ServiceDefinition(**service),
                           operations=ServiceOperations(**operations), **args)


# The call graph of the three-service program: caller -> callees. It has a cycle (auth -> users -> auth).
CALL_GRAPH = {"auth": ["users"], "orders": ["auth", "users"], "users": ["auth"]}
PORTS = {"auth": 8080, "orders": 8081, "users": 8082}
# Where each service's Service Connect proxy listens; users overrides the default to prove the argument is used.
PROXY_PORTS = {"auth": DEFAULT_SERVICE_CONNECT_INGRESS_PORT, "orders": DEFAULT_SERVICE_CONNECT_INGRESS_PORT,
               "users": 9082}
# EC2 UserIdGroupPair.Description (a rule that references a security group): "Up to 255 characters in length.
# Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=;{}!$*" (no '&', unlike CIDR rules).
SECURITY_GROUP_RULE_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=;{}!$*]{0,255}$")


@pytest.fixture(scope="module")
def platform():
    def program():
        # Stand-in for the RegionalPlatform's TLS role: the service must follow it on create, precede on delete.
        tls_role = iam.Role("sc-tls-role", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
        clients = ServiceClientGroups("clients", ServiceClientGroupsArgs(
            environment="prod", vpc_id="vpc-0a1b2c3d", called_services=("auth", "users")))

        def wiring(name):
            return dict(client_security_group_id=clients.group_ids.get(name),
                        callee_client_security_group_ids=tuple(clients.group_ids[c] for c in CALL_GRAPH[name]))

        services = {
            "auth": MeshService("auth", service_args("auth", PORTS["auth"], routed=True, tls_role=tls_role.arn,
                                                     tls_dependencies=[tls_role], **wiring("auth"))),
            "orders": MeshService("orders", service_args("orders", PORTS["orders"], tls_role=tls_role.arn,
                                                         tls_dependencies=[tls_role], **wiring("orders"),
                                                         deployment=deployment(strategy="LINEAR",
                                                                               step_percent=20.0,
                                                                               step_bake_minutes=5))),
            "users": MeshService("users", service_args("users", PORTS["users"], tls_role=tls_role.arn,
                                                       tls_dependencies=[tls_role], **wiring("users"),
                                                       service_connect_ingress_port=PROXY_PORTS["users"])),
        }
        return {name: {"sg": s.security_group_id, "clients": clients.group_ids.get(name), "service": s.service_name, "discovery": s.discovery_name,
                       "tgs": s.target_group_arns, "alarms": s.alarm_names, "task_role": s.task_role_arn,
                       "execution_role": s.execution_role_arn, "log_group": s.log_group_name,
                       "service_arn": s.service_arn, "task_definition": s.task_definition_arn}
                for name, s in services.items()}

    return run_program(program, project="microservices-foundation", stack="test", region=REGION)


def component(recorder, name):
    return recorder.one(COMPONENT, name)


def descendants(recorder, name):
    return recorder.children_of(component(recorder, name).urn)


def rules_of(recorder, kind, security_group_id):
    return [r for r in recorder.of_type(kind) if r.inputs.get("securityGroupId") == security_group_id]


def test_security_group_rules_admit_callers_through_one_client_group_whatever_their_number(platform):
    recorder, outputs = platform
    group_of = {name: outputs[name]["sg"] for name in CALL_GRAPH}
    client_of = {name: outputs[name]["clients"] for name in CALL_GRAPH if outputs[name]["clients"]}
    assert set(client_of) == {"auth", "users"}  # orders is called by nobody
    alb_group = "sg-0a1b2c3d4e5f60718"
    for name, group in group_of.items():
        ingress = rules_of(recorder, INGRESS, group)
        sources = {(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"])
                   for r in ingress}
        # Callers reach the Service Connect proxy on its ingress port; only the ALB reaches the app's own port.
        expected = {(client_of[name], PROXY_PORTS[name], PROXY_PORTS[name], "tcp")} if name in client_of else set()
        if name == "auth":
            expected.add((alb_group, PORTS[name], PORTS[name], "tcp"))
        assert sources == expected and len(ingress) == len(expected), name
        assert all("cidrIpv4" not in rule.inputs for rule in ingress)
        egress = rules_of(recorder, EGRESS, group)
        assert [(r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"]) for r in egress] == [("0.0.0.0/0", 443, 443)]
        if name in client_of:
            to_service = [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"])
                          for r in rules_of(recorder, EGRESS, client_of[name])]
            assert to_service == [(group, PROXY_PORTS[name])]
    # Each task wears its own group and the client group of every service it calls.
    for service in recorder.of_type("aws:ecs/service:Service"):
        name = service.inputs["name"]
        assert service.inputs["networkConfiguration"]["securityGroups"] == [
            group_of[name], *(client_of[callee] for callee in CALL_GRAPH[name])]
    alb_egress = rules_of(recorder, EGRESS, alb_group)
    assert [(r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
            for r in alb_egress] == [(group_of["auth"], 8080, 8080)]


def test_security_group_rule_descriptions_use_only_characters_ec2_accepts(platform):
    recorder, _ = platform
    rules = recorder.of_type(INGRESS) + recorder.of_type(EGRESS)
    assert rules
    for rule in rules:
        assert SECURITY_GROUP_RULE_DESCRIPTION.match(rule.inputs["description"]), (rule.name, rule.inputs["description"])


def test_security_groups_have_no_inline_rules(platform):
    recorder, _ = platform
    for group in recorder.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")


def test_caller_rules_are_children_of_the_called_service(platform):
    recorder, _ = platform
    users = component(recorder, "users").urn
    edge_rules = [r for r in recorder.resources if r.name in ("users-in-from-clients", "users-clients-out")]
    assert len(edge_rules) == 2 and all(r.parent == users for r in edge_rules)


def test_every_child_is_parented_to_its_component_and_named_after_it(platform):
    recorder, _ = platform
    components = {r.urn: r.name for r in recorder.of_type(COMPONENT) + recorder.of_type(CLIENTS_COMPONENT)}
    for resource in recorder.resources:
        if resource.type in (COMPONENT, CLIENTS_COMPONENT) or resource.name == "sc-tls-role":
            continue
        assert resource.parent in components, resource.name
        assert resource.name.startswith(components[resource.parent] + "-"), resource.name


def test_service_connect_uses_tls_timeouts_logs_and_the_client_alias(platform):
    recorder, outputs = platform
    service = recorder.one(SERVICE, "users-service")
    connect = service.inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True
    assert connect["namespace"].endswith("namespace/ns-0123456789abcdef")
    (entry,) = connect["services"]
    assert entry["portName"] == "http"
    assert entry["discoveryName"] == "users"
    assert entry["clientAlias"] == [{"port": 8082, "dnsName": "users.svc.local"}]
    assert entry["ingressPortOverride"] == PROXY_PORTS["users"]
    assert entry["timeout"] == {"perRequestTimeoutSeconds": 15, "idleTimeoutSeconds": 300}
    tls = entry["tls"]
    assert tls["issuerCertAuthority"] == {"awsPcaAuthorityArn": CA}
    assert tls["kmsKey"] == KMS_KEY
    assert tls["roleArn"] == recorder.one("aws:iam/role:Role", "sc-tls-role").outputs["arn"]
    assert connect["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/prod/users", "awslogs-region": REGION, "awslogs-stream-prefix": "service-connect"}}
    assert connect["accessLogConfiguration"] == {"format": "JSON", "includeQueryParameters": "DISABLED"}
    assert outputs["users"]["discovery"] == "users.svc.local"


def test_service_depends_on_the_tls_role_for_deletion_order(platform):
    recorder, _ = platform
    tls_role = recorder.one("aws:iam/role:Role", "sc-tls-role").urn
    for name in CALL_GRAPH:
        assert tls_role in recorder.one(SERVICE, f"{name}-service").dependencies


def test_alarms_are_wired_to_deployment_rollback(platform):
    recorder, outputs = platform
    for name in CALL_GRAPH:
        service = recorder.one(SERVICE, f"{name}-service")
        own_alarms = [r for r in descendants(recorder, name) if r.type == ALARM]
        wiring = service.inputs["alarms"]
        assert (wiring["enable"], wiring["rollback"]) == (True, True)
        assert sorted(wiring["alarmNames"]) == sorted(a.inputs["name"] for a in own_alarms)
        assert len(own_alarms) == (4 if name == "auth" else 2)
        assert sorted(outputs[name]["alarms"]) == sorted(a.outputs["name"] for a in own_alarms)
        for alarm in own_alarms:
            assert alarm.inputs["treatMissingData"] == "notBreaching"
            assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        assert "deploymentCircuitBreaker" not in service.inputs


def test_internal_service_alarms_read_service_connect_metrics(platform):
    recorder, _ = platform
    error_rate = recorder.one(ALARM, "users-5xx-rate")
    queries = {q["id"]: q for q in error_rate.inputs["metricQueries"]}
    assert queries["errors"]["metric"]["namespace"] == "AWS/ECS"
    assert queries["errors"]["metric"]["metricName"] == "HTTPCode_Target_5XX_Count"
    assert queries["errors"]["metric"]["dimensions"] == {"TargetDiscoveryName": "users"}
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    assert queries["requests"]["metric"]["dimensions"] == {
        "ClusterName": "prod-euc1", "ServiceName": "users", "DiscoveryName": "users"}
    assert [q["id"] for q in error_rate.inputs["metricQueries"] if q.get("returnData")] == ["error_rate"]
    latency = recorder.one(ALARM, "users-p95-latency")
    assert (latency.inputs["namespace"], latency.inputs["metricName"], latency.inputs["extendedStatistic"]) == (
        "AWS/ECS", "TargetResponseTime", "p95")
    assert latency.inputs["threshold"] == 1000.0


def test_routed_service_alarms_cover_both_target_groups_of_the_blue_green_pair(platform):
    recorder, _ = platform
    suffixes = {recorder.one("aws:lb/targetGroup:TargetGroup", f"auth-tg-{x}").outputs["arnSuffix"] for x in "ab"}
    seen = set()
    for letter in "ab":
        error_rate = recorder.one(ALARM, f"auth-5xx-rate-tg-{letter}")
        for query in error_rate.inputs["metricQueries"]:
            if "metric" in query:
                assert query["metric"]["namespace"] == "AWS/ApplicationELB"
                assert query["metric"]["dimensions"]["LoadBalancer"] == ALB_SUFFIX
                seen.add(query["metric"]["dimensions"]["TargetGroup"])
        latency = recorder.one(ALARM, f"auth-p95-latency-tg-{letter}")
        assert latency.inputs["threshold"] == 1.0, "ALB TargetResponseTime is in seconds"
        seen.add(latency.inputs["dimensions"]["TargetGroup"])
    assert seen == suffixes


def test_deployment_strategies_use_ecs_controller_and_string_bake_times(platform):
    recorder, _ = platform
    canary = recorder.one(SERVICE, "auth-service").inputs
    assert canary["deploymentController"] == {"type": "ECS"}
    assert canary["deploymentConfiguration"] == {
        "strategy": "CANARY", "bakeTimeInMinutes": "15",
        "canaryConfiguration": {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": "10"}}
    linear = recorder.one(SERVICE, "orders-service").inputs
    assert linear["deploymentConfiguration"] == {
        "strategy": "LINEAR", "bakeTimeInMinutes": "15",
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": "5"}}


def test_a_service_that_is_not_interruptible_runs_on_fargate_only_in_private_subnets(platform):
    recorder, outputs = platform
    service = recorder.one(SERVICE, "orders-service").inputs
    assert "launchType" not in service
    # The cluster's strategy has a Spot share (weight 3); orders does not say it tolerates Spot's notice.
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]
    assert service["networkConfiguration"] == {"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": False,
                                               "securityGroups": [outputs["orders"]["sg"], outputs["auth"]["clients"],
                                                                  outputs["users"]["clients"]]}
    assert service["desiredCount"] == 2


def test_routed_service_uses_blue_green_target_groups_and_a_listener_rule(platform):
    recorder, _ = platform
    groups = [recorder.one("aws:lb/targetGroup:TargetGroup", f"auth-tg-{x}") for x in "ab"]
    for group in groups:
        assert len(group.inputs["name"]) <= 32
        assert group.inputs["targetType"] == "ip" and group.inputs["protocol"] == "HTTP"
        assert group.inputs["port"] == 8080 and group.inputs["deregistrationDelay"] == 30
        check = group.inputs["healthCheck"]
        assert (check["path"], check["matcher"]) == ("/health", "200")
        # The target's own port, which is the app's (the proxy listens elsewhere): plain HTTP checks work with TLS on.
        assert check["port"] == "traffic-port" and check["protocol"] == "HTTP"
        assert check["timeout"] < check["interval"]
    assert [g.inputs["name"] for g in groups] == ["prod-auth-a", "prod-auth-b"]

    rule = recorder.one("aws:lb/listenerRule:ListenerRule", "auth-route").inputs
    assert rule["priority"] == 110 and rule["listenerArn"] == LISTENER
    assert rule["conditions"] == [{"pathPattern": {"values": ["/api/auth", "/api/auth/*"]}}]
    forward = rule["actions"][0]["forward"]["targetGroups"]
    assert [(t["arn"], t["weight"]) for t in forward] == [(groups[0].outputs["arn"], 100), (groups[1].outputs["arn"], 0)]

    (balancer,) = recorder.one(SERVICE, "auth-service").inputs["loadBalancers"]
    assert balancer["targetGroupArn"] == groups[0].outputs["arn"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("auth", 8080)
    proxy_port = recorder.one(SERVICE, "auth-service").inputs["serviceConnectConfiguration"]["services"][0]["ingressPortOverride"]
    assert proxy_port == DEFAULT_SERVICE_CONNECT_INGRESS_PORT != balancer["containerPort"]
    assert balancer["advancedConfiguration"] == {
        "alternateTargetGroupArn": groups[1].outputs["arn"],
        "productionListenerRule": recorder.one("aws:lb/listenerRule:ListenerRule", "auth-route").outputs["arn"],
        "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/ecs-lb"}
    assert recorder.one(SERVICE, "auth-service").inputs["healthCheckGracePeriodSeconds"] == 60
    assert "loadBalancers" not in recorder.one(SERVICE, "users-service").inputs


def test_task_definition_is_right_sized_fargate_with_config_from_ssm(platform):
    recorder, _ = platform
    task = recorder.one("aws:ecs/taskDefinition:TaskDefinition", "orders-taskdef").inputs
    # 512/1024 app + 128/256 collector + 256/256 proxy = 896/1536 -> 1024/2048.
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    assert task["networkMode"] == "awsvpc" and task["requiresCompatibilities"] == ["FARGATE"]
    assert task["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    definitions = json.loads(task["containerDefinitions"])
    assert sum(d["memory"] for d in definitions) < 2048
    parameters = {p.inputs["name"]: p.outputs["arn"] for p in recorder.of_type("aws:ssm/parameter:Parameter")
                  if p.parent == component(recorder, "orders").urn}
    assert set(parameters) == {"/prod/orders/LOG_LEVEL", "/prod/orders/FEATURE_FLAGS"}
    assert all(p.inputs["type"] == "String" for p in recorder.of_type("aws:ssm/parameter:Parameter"))
    secrets = {s["name"]: s["valueFrom"] for s in definitions[0]["secrets"]}
    assert secrets["LOG_LEVEL"] == parameters["/prod/orders/LOG_LEVEL"]
    assert secrets["DATABASE_URL"].startswith(f"arn:aws:secretsmanager:{ARN_BASE}:secret:prod/orders/db-")
    assert "info" not in json.dumps(definitions[0]["environment"])


def test_registered_task_definition_is_a_valid_register_task_definition_request(platform):
    recorder, _ = platform
    for name in CALL_GRAPH:
        task = recorder.one("aws:ecs/taskDefinition:TaskDefinition", f"{name}-taskdef")
        request = {key: task.inputs[key] for key in (
            "family", "cpu", "memory", "networkMode", "requiresCompatibilities", "runtimePlatform",
            "executionRoleArn", "taskRoleArn", "volumes")}
        request["containerDefinitions"] = json.loads(task.inputs["containerDefinitions"])
        assert register_task_definition_problems(request) == []


def test_roles_carry_the_boundary_and_are_scoped_to_their_own_service(platform):
    recorder, _ = platform
    for name in CALL_GRAPH:
        children = {r.name: r for r in descendants(recorder, name)}
        for role in ("execution", "task"):
            assert children[f"{name}-{role}-role"].inputs["permissionsBoundary"] == BOUNDARY
        task_trust = json.loads(children[f"{name}-task-role"].inputs["assumeRolePolicy"])
        assert task_trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}

        own = {f"arn:aws:ecr:{ARN_BASE}:repository/prod/{name}", f"arn:aws:ecr:{ARN_BASE}:repository/{COLLECTOR_REPOSITORY}",
               KMS_KEY,
               f"arn:aws:secretsmanager:{ARN_BASE}:secret:prod/{name}/db-AbCdEf",
               f"arn:aws:logs:{ARN_BASE}:log-group:/ecs/prod/{name}:*"}
        own |= {p.outputs["arn"] for p in children.values() if p.type == "aws:ssm/parameter:Parameter"}
        documents = [json.loads(r.inputs["policy"]) for r in children.values() if r.type == "aws:iam/rolePolicy:RolePolicy"]
        assert len(documents) == 2
        for document in documents:
            for statement in document["Statement"]:
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                if resources == ["*"]:
                    assert set(statement["Action"]) <= WILDCARD_ONLY_ACTIONS
                else:
                    assert set(resources) <= own, (name, resources)


def test_autoscaling_owns_desired_count_between_min_and_max(platform):
    recorder, _ = platform
    target = recorder.one("aws:appautoscaling/target:Target", "auth-scaling").inputs
    assert target["resourceId"] == "service/prod-euc1/auth"
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 8)
    assert target["scalableDimension"] == "ecs:service:DesiredCount" and target["serviceNamespace"] == "ecs"
    policies = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]
                for p in recorder.of_type("aws:appautoscaling/policy:Policy") if p.name.startswith("auth-")}
    assert policies["auth-scale-cpu"]["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert policies["auth-scale-cpu"]["targetValue"] == 65.0
    assert policies["auth-scale-memory"]["targetValue"] == 75.0
    # Routed or not, nothing tracks ALBRequestCountPerTarget: a blue/green pair has no stable group to label.
    for service in CALL_GRAPH:
        tracked = sorted(p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["predefinedMetricType"]
                         for p in recorder.of_type("aws:appautoscaling/policy:Policy") if p.name.startswith(f"{service}-"))
        assert tracked == ["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization"], service


def test_taggable_children_carry_the_service_tag(platform):
    recorder, _ = platform
    for name in CALL_GRAPH:
        for child in descendants(recorder, name):
            if "tags" not in child.inputs:
                continue
            assert child.inputs["tags"]["service"] == name, child.name


def test_outputs_are_flat_and_resolved(platform):
    _, outputs = platform
    auth = outputs["auth"]
    assert auth["service"] == "auth"
    assert auth["service_arn"] == f"arn:aws:ecs:{ARN_BASE}:service/prod-euc1/auth"
    assert auth["task_definition"].startswith(f"arn:aws:ecs:{ARN_BASE}:task-definition/prod-auth:")
    assert auth["log_group"] == "/ecs/prod/auth"
    assert len(auth["tgs"]) == 2 and outputs["users"]["tgs"] == []
    assert auth["task_role"] != auth["execution_role"]


# --- argument validation (no program needed) -----------------------------------------------------

def test_service_names_that_would_overflow_target_group_names_are_refused():
    # staging-<22 characters>-a is 32 characters, the CreateTargetGroup limit.
    assert service_args("a" * 22, 8080, routed=True, environment="staging").target_group_names[0] == f"staging-{'a' * 22}-a"
    with pytest.raises(ValueError, match="1-22 lowercase"):
        service_args("a" * 23, 8080, routed=True, environment="staging")


def test_path_prefix_and_rule_priority_go_together():
    with pytest.raises(ValueError, match="path prefix and a listener rule priority"):
        service_args("auth", 8080, path_prefix="/api/auth")


def test_listener_rule_priority_must_be_within_alb_limits():
    with pytest.raises(ValueError, match=r"1\.\.50000"):
        service_args("auth", 8080, routed=True, listener_rule_priority=50001)


def test_client_timeout_must_stay_below_the_per_request_timeout():
    with pytest.raises(ValueError, match="lower than the Service Connect per-request"):
        Timeouts(per_request_seconds=10, idle_seconds=300, http_client_seconds=10)
    with pytest.raises(ValueError, match="longer than the per-request"):
        Timeouts(per_request_seconds=10, idle_seconds=10, http_client_seconds=2)


@pytest.mark.parametrize("port, message", [
    (8080, "equals the container port"),
    (0, "within 1..65535"),
    (65536, "within 1..65535"),
    (ADOT_COLLECTOR_PORTS[0], "tracing collector"),
])
def test_service_connect_ingress_port_must_be_a_free_port_other_than_the_container_port(port, message):
    with pytest.raises(ValueError, match=message):
        service_args("auth", 8080, service_connect_ingress_port=port)


def test_collector_ports_are_free_for_the_proxy_when_tracing_is_off():
    assert service_args("auth", 8080, tracing_enabled=False,
                        service_connect_ingress_port=ADOT_COLLECTOR_PORTS[0]).service_connect_ingress_port == 4317


def test_path_prefix_must_fit_an_alb_path_pattern():
    with pytest.raises(ValueError, match="128 characters"):
        service_args("auth", 8080, routed=True, path_prefix="/api/" + "a" * 122)


def test_plain_config_values_must_fit_a_standard_ssm_parameter():
    with pytest.raises(ValueError, match="4096 characters"):
        service_args("auth", 8080, config={"BIG": "x" * 4097})


def test_canary_percent_outside_the_api_range_is_refused():
    with pytest.raises(ValueError, match="canary percent"):
        deployment(canary_percent=0.05)
    with pytest.raises(ValueError, match="step percent"):
        deployment(step_percent=25.05)


@pytest.mark.parametrize("overrides, message", [
    (dict(min_tasks=3, max_tasks=2), "minTasks"),
    (dict(min_tasks=0), "minTasks"),
    (dict(log_retention_days=31), "retention period"),
    (dict(collector_image_uri=None), "collector image"),
    (dict(image="latest"), "latest"),
    (dict(calls=("auth",)), "cannot call itself"),
])
def test_args_the_apis_would_refuse_fail_before_deployment(overrides, message):
    with pytest.raises(ValueError, match=message):
        service_args("auth", 8080, **overrides)


def test_without_tracing_no_collector_image_is_needed():
    assert service_args("auth", 8080, tracing_enabled=False, collector_image_uri=None).platform.collector_image_uri is None


@pytest.mark.parametrize("field_name", ["strategy", "canary_percent", "step_percent", "bake_time_minutes"])
def test_product_values_have_no_component_defaults(field_name):
    # They come from foundation/settings.py only; a default here could silently differ from it.
    values = dict(strategy="CANARY", canary_percent=5.0, canary_bake_minutes=10, step_percent=25.0,
                  step_bake_minutes=6, bake_time_minutes=15)
    del values[field_name]
    with pytest.raises(TypeError):
        DeploymentSettings(**values)
    with pytest.raises(TypeError):
        Timeouts(per_request_seconds=3, idle_seconds=60)
    with pytest.raises(TypeError):
        AlarmThresholds(error_rate_percent=5.0)


def test_the_sidecar_comes_from_the_regional_cache_and_the_execution_role_may_import_it_there(platform):
    recorder, _ = platform
    task = recorder.one("aws:ecs/taskDefinition:TaskDefinition", "auth-taskdef")
    images = {d["name"]: d["image"] for d in json.loads(task.inputs["containerDefinitions"])}
    assert images["aws-otel-collector"] == COLLECTOR
    policy = json.loads(recorder.one("aws:iam/rolePolicy:RolePolicy", "auth-execution-policy").inputs["policy"])
    (statement,) = [s for s in policy["Statement"] if "ecr:BatchImportUpstreamImage" in s["Action"]]
    assert statement["Resource"] == [f"arn:aws:ecr:{ARN_BASE}:repository/{COLLECTOR_REPOSITORY}"]


def test_impossible_task_size_fails_before_anything_is_registered():
    args = service_args("ledger", 8080)
    with pytest.raises(SizingError, match="'ledger'"):
        run_program(lambda: MeshService("ledger", replace(args, service=replace(args.service, cpu=16384, memory=65536))),
                    project="microservices-foundation", stack="test", region=REGION)


def test_without_nat_task_egress_is_only_the_vpc_endpoints_and_the_s3_prefix_list():
    args = service_args("ledger", 8080)
    network = replace(args.platform.network, has_nat=False, s3_prefix_list_id="pl-6ea54007")
    args = replace(args, platform=replace(args.platform, network=network))
    recorder, _ = run_program(lambda: MeshService("ledger", args), project="microservices-foundation", stack="test",
                              region=REGION)
    egress = [r.inputs for r in recorder.of_type(EGRESS)]
    assert sorted((e.get("cidrIpv4") or "", e.get("prefixListId") or "", e["fromPort"]) for e in egress) == [
        ("", "pl-6ea54007", 443), ("10.0.0.0/16", "", 443)]


def test_without_nat_the_platform_must_name_the_s3_prefix_list():
    args = service_args("ledger", 8080)
    with pytest.raises(ValueError, match="prefix list"):
        replace(args, platform=replace(args.platform, network=replace(args.platform.network, has_nat=False)))


def test_services_wait_for_the_clusters_capacity_provider_association():
    args = service_args("ledger", 8080)

    def program():
        association = iam.Role("capacity-stand-in", assume_role_policy="{}")
        cluster = replace(args.platform.cluster, depends_on=(association,))
        MeshService("ledger", replace(args, platform=replace(args.platform, cluster=cluster)))

    recorder, _ = run_program(program, project="microservices-foundation", stack="test", region=REGION)
    service = recorder.one(SERVICE)
    role = recorder.one("aws:iam/role:Role", "capacity-stand-in")
    assert role.urn in service.dependencies
