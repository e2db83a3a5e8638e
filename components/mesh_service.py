"""MeshService: one microservice on ECS Fargate, meshed through ECS Service Connect.

What one instance builds (all children of the component):
  * its CloudWatch log group (app, tracing sidecar and Service Connect proxy/access logs), SSM String
    parameters for its plain config, a right-sized Fargate task definition (sizing.py,
    container_definitions.py) and execution/task roles scoped to its own resources (iam_documents.py);
  * its security group with no inline rules; rules are separate children so that call-graph edges
    added later by `allow_calls_from` never fight with the group's own definition;
  * the ECS service in the Service Connect namespace (TLS from AWS Private CA when enabled), deployed
    with ECS-native CANARY or LINEAR traffic shifting, rolled back by CloudWatch alarms;
  * for ALB-routed services: a blue/green target-group pair and a listener rule ECS shifts traffic on;
  * Application Auto Scaling on CPU and memory.

Design decisions (see the module docstrings of the pure helpers for the sizing and IAM ones):
  * Two ports per task. The app listens on `container_port`; the Service Connect proxy listens on
    `service_connect_ingress_port` (ServiceConnectService.ingressPortOverride). Without the override the
    proxy listens on the container port itself and intercepts everything sent to it; with Service Connect
    TLS on, it then accepts only TLS 1.3 from other Service Connect proxies, so the ALB's plain-HTTP
    requests and health checks could not reach the app (aws/containers-roadmap#2321). AWS documents the
    override for exactly this: "Use the value of this field to bypass the proxy for traffic on the port
    number specified in the named portMapping ... and then use it in your VPC security groups to allow
    traffic into the proxy" (API_ServiceConnectService). So the ALB's target groups (and their
    traffic-port health checks) reach the app directly on the container port, Service Connect callers
    reach the proxy on the ingress port, and the security groups open exactly those two edges.
  * Circuit breaker: not enabled. The ECS API reference says it "can only be used for services using the
    rolling update (ECS) deployment type"; the developer guide's failure-detection page says "rolling
    update deployment and blue/green deployment types" only. Neither lists CANARY or LINEAR; the
    canary/linear blog and requirement pages document CloudWatch alarm rollback for both. Failure
    detection is therefore the alarms (`enable`, `rollback` true) plus the bake times.
  * Alarms of routed services are per target group (both members of the blue/green pair): whichever
    group is production after a swap is covered, and a canary's errors are measured on the canary's
    own group instead of being diluted by the 95 % of traffic still on the old one.
  * Internal services alarm on Service Connect metrics (namespace AWS/ECS, HTTP metrics only with an
    `appProtocol` on the port mapping). ECS publishes them under four dimension sets: `DiscoveryName`,
    `DiscoveryName, ServiceName, ClusterName`, `TargetDiscoveryName` and `TargetDiscoveryName,
    ServiceName, ClusterName` (AWS "Tutorial: Using Service Connect in Fargate with the AWS CLI", "To view
    Service Connect metrics"; awsdocs/amazon-ecs-developer-guide doc_source/create-service-connect.md).
    Which metric sits under which set is in the table of
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html, read here through
    public code that quotes it (not the page itself): the target-attributed metrics
    (HTTPCode_Target_5XX_Count, TargetResponseTime in milliseconds) come from the *calling* proxies, and in
    their three-dimension set `ServiceName` is the caller, so the callee's alarms read
    `TargetDiscoveryName` alone (all callers); the inbound `RequestCount` comes from the service's own
    proxies under `DiscoveryName, ServiceName, ClusterName` (ServiceName = this service). With the ingress
    port override the ALB's requests bypass the proxy, so numerator and denominator both count Service
    Connect calls only. Both aggregate the old and new revisions, so a canary's errors are diluted by its
    traffic share; the bake time is the remaining guard.
  * Autoscaling tracks CPU and memory only, not ALBRequestCountPerTarget. Application Auto Scaling takes
    a resource label only when "there is a target group for an Application Load Balancer attached to the
    ... ECS service" (PredefinedMetricSpecification.ResourceLabel). With ECS blue/green the production
    group alternates between the pair: a label on the primary group tracks an idle group after every
    other deployment, and AWS does not say whether the *alternate* group (named only in
    advancedConfiguration) counts as attached. Neither is a signal to scale on; CPU and memory follow
    the load whichever group carries it.
  * Desired count belongs to autoscaling: the service starts at `min_tasks` and ignores `desiredCount`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Optional, Sequence

import pulumi
import pulumi_aws.appautoscaling as appautoscaling
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.ec2 as ec2
import pulumi_aws.ecs as ecs
import pulumi_aws.iam as iam
import pulumi_aws.lb as lb
import pulumi_aws.ssm as ssm
import pulumi_aws.vpc as vpc_rules

from components import container_definitions as containers
from components import iam_documents
from components.sizing import TaskSize, task_size
from components.validation import (is_multiple_of_tenth, log_retention_problem,
                                   task_count_problem, timeout_problems)

COMPONENT_TYPE = "microservices:platform:MeshService"

# Target group and (not used here) load balancer names: at most 32 alphanumerics or hyphens, no hyphen at
# either end (ELBv2 CreateTargetGroup).
TARGET_GROUP_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
# The service name becomes the Service Connect discovery name (lowercase letters, digits, '_' and '-', at
# most 64, not starting with '-') and part of target-group names, so it is held to the narrower rule.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# ECS: "Each name and port pair must be unique"; dnsName allows lowercase letters, digits, '_', '-', '.'.
DNS_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,126}$")
PATH_PREFIX = re.compile(r"^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$")
# ALB listener rule path patterns: "The maximum size of each string is 128 characters"
# (AWS::ElasticLoadBalancingV2::ListenerRule PathPatternConfig); the rule matches the prefix and `<prefix>/*`.
PATH_PATTERN_MAX_LENGTH = 128
# PutParameter refuses more: "Standard tier parameters support a maximum parameter value of 4096 characters".
SSM_STANDARD_VALUE_MAX_CHARACTERS = 4096
ALLOWED_ARCHITECTURES = ("ARM64", "X86_64")
DEPLOYMENT_STRATEGIES = ("CANARY", "LINEAR")
HTTPS_PORT = 443
# Where the Service Connect proxy listens for calls from other Service Connect services (the
# ingressPortOverride; see the module docstring for why it must differ from the container port). 15080:
# above 1023; below the Linux ephemeral range 32768-60999, so it never meets the source port of an
# outbound connection in the task's shared network namespace; not a port of the tracing collector
# (4317, 4318, 13133) nor one an app is likely to pick. Callers never see it: they keep using the client
# alias `<name>.<namespace>:<container port>`, which their own proxy resolves.
DEFAULT_SERVICE_CONNECT_INGRESS_PORT = 15080


@dataclass(frozen=True)
class ServiceConnectTls:
    """TLS between Service Connect proxies; the CA, role and key belong to the RegionalPlatform."""

    enabled: bool
    certificate_authority_arn: Optional[pulumi.Input[str]] = None
    role_arn: Optional[pulumi.Input[str]] = None
    kms_key_arn: Optional[pulumi.Input[str]] = None
    # Resources the service must outlive on delete and follow on create (the CA certificate install, the
    # role's policy attachments): ECS services "can get stuck draining" if they are removed first.
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        if self.enabled and not (self.certificate_authority_arn and self.role_arn and self.kms_key_arn):
            raise ValueError("Service Connect TLS needs the CA ARN, the ECS infrastructure role ARN and the KMS key ARN")


@dataclass(frozen=True)
class Timeouts:
    """Service Connect timeouts and the app's own HTTP client timeout; the values are the stack's
    (foundation/settings.py), the nesting rule is validation.timeout_problems."""

    per_request_seconds: int
    idle_seconds: int
    # Outbound HTTP calls from the app give up first, so the app sees its own timeout, not the proxy's 504.
    http_client_seconds: int

    def __post_init__(self) -> None:
        problems = timeout_problems(self.http_client_seconds, self.per_request_seconds, self.idle_seconds)
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class DeploymentSettings:
    """ECS-native traffic shifting; every value comes from the stack's `deployment` settings."""

    strategy: Literal["CANARY", "LINEAR"]
    canary_percent: float
    canary_bake_minutes: int
    step_percent: float
    step_bake_minutes: int
    bake_time_minutes: int

    def __post_init__(self) -> None:
        # API_CanaryConfiguration / API_LinearConfiguration / API_DeploymentConfiguration.
        if self.strategy not in DEPLOYMENT_STRATEGIES:
            raise ValueError(f"deployment strategy must be one of {DEPLOYMENT_STRATEGIES}, got {self.strategy!r}")
        if not (0.1 <= self.canary_percent <= 100.0 and is_multiple_of_tenth(self.canary_percent)):
            raise ValueError(f"canary percent {self.canary_percent} must be a multiple of 0.1 within 0.1..100")
        if not (3.0 <= self.step_percent <= 100.0 and is_multiple_of_tenth(self.step_percent)):
            raise ValueError(f"step percent {self.step_percent} must be a multiple of 0.1 within 3..100")
        for label, minutes in (("canary bake", self.canary_bake_minutes), ("step bake", self.step_bake_minutes),
                               ("bake time", self.bake_time_minutes)):
            if not 0 <= minutes <= 1440:
                raise ValueError(f"{label} of {minutes} minutes must be within 0..1440")


@dataclass(frozen=True)
class AlarmThresholds:
    # The thresholds are the stack's (`alarms` settings); the evaluation window is the component's own.
    error_rate_percent: float
    p95_latency_ms: float
    period_seconds: int = 60
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.error_rate_percent <= 100 or self.p95_latency_ms <= 0:
            raise ValueError("alarm thresholds: 5xx rate within (0, 100] %, p95 latency > 0 ms")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError("datapoints_to_alarm must be within 1..evaluation_periods")


@dataclass(frozen=True)
class ScalingTargets:
    cpu_percent: float = 65.0
    memory_percent: float = 75.0
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        if not (0 < self.cpu_percent <= 100 and 0 < self.memory_percent <= 100):
            raise ValueError("CPU and memory scaling targets are percentages within (0, 100]")


@dataclass(frozen=True)
class AlbRouting:
    """Public routing through the platform ALB; given only for services with a path prefix."""

    listener_arn: pulumi.Input[str]
    alb_security_group_id: pulumi.Input[str]
    alb_arn_suffix: pulumi.Input[str]
    rule_priority: int
    # ECS infrastructure role for load balancers (AmazonECSInfrastructureRolePolicyForLoadBalancers).
    load_balancer_role_arn: pulumi.Input[str]
    health_check_grace_period_seconds: int = 60
    depends_on: Sequence[pulumi.Resource] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.rule_priority <= 50000:
            raise ValueError(f"listener rule priority {self.rule_priority} must be within 1..50000")
        if not 0 <= self.health_check_grace_period_seconds <= 2147483647:
            raise ValueError("health check grace period must be a non-negative number of seconds")


@dataclass(frozen=True)
class MeshServiceArgs:
    service_name: str
    environment: Literal["staging", "prod"]
    region: str
    container_port: int
    health_path: str
    app_cpu: int
    app_memory: int
    architecture: Literal["ARM64", "X86_64"]
    min_tasks: int
    max_tasks: int
    image_uri: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    permissions_boundary_arn: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    namespace_arn: pulumi.Input[str]
    namespace_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    # [{"capacity_provider": "FARGATE", "weight": 1, "base": 1}, ...] as RegionalPlatform builds it.
    capacity_provider_strategy: Sequence[Mapping[str, Any]]
    service_connect_tls: ServiceConnectTls
    # The stack's product settings (foundation/settings.py); no defaults here, so none can drift from them.
    tracing_enabled: bool
    trace_sampling_ratio: float
    log_retention_days: int
    timeouts: Timeouts
    deployment: DeploymentSettings
    alarm_thresholds: AlarmThresholds
    # The ADOT collector in this region's pull-through cache (RegionalPlatform.collector_image_uri); required
    # with tracing, since the task must never pull from a registry its VPC endpoints cannot reach.
    collector_image_uri: Optional[pulumi.Input[str]]
    path_prefix: Optional[str] = None
    routing: Optional[AlbRouting] = None
    # Env var name -> Secrets Manager secret ARN (or SSM SecureString parameter ARN) of this service.
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # KEY -> value, stored as SSM String parameters /<environment>/<service>/<KEY>.
    plain_config: Mapping[str, str] = field(default_factory=dict)
    scaling: ScalingTargets = field(default_factory=ScalingTargets)
    service_connect_ingress_port: int = DEFAULT_SERVICE_CONNECT_INGRESS_PORT

    def __post_init__(self) -> None:
        if not SERVICE_NAME.match(self.service_name):
            raise ValueError(f"service name {self.service_name!r} must match {SERVICE_NAME.pattern}")
        if self.environment not in ("staging", "prod"):
            raise ValueError(f"environment must be staging or prod, got {self.environment!r}")
        if self.architecture not in ALLOWED_ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ALLOWED_ARCHITECTURES}, got {self.architecture!r}")
        for problem in (task_count_problem(self.min_tasks, self.max_tasks),
                        log_retention_problem(self.log_retention_days)):
            if problem:
                raise ValueError(problem)
        if self.tracing_enabled and self.collector_image_uri is None:
            raise ValueError("tracing needs collector_image_uri, the collector in the regional pull-through cache")
        if not DNS_NAME.match(f"{self.service_name}.{self.namespace_name}"):
            raise ValueError(f"'{self.service_name}.{self.namespace_name}' is not a valid Service Connect DNS name")
        if (self.path_prefix is None) != (self.routing is None):
            raise ValueError("a path prefix and ALB routing go together: give both for a routed service, neither "
                             "for an internal one")
        if self.path_prefix is not None and not PATH_PREFIX.match(self.path_prefix):
            raise ValueError(f"path prefix {self.path_prefix!r} must look like /api/auth (no trailing slash)")
        if self.path_prefix is not None and len(f"{self.path_prefix}/*") > PATH_PATTERN_MAX_LENGTH:
            raise ValueError(f"path prefix {self.path_prefix!r} is too long: the listener rule pattern "
                             f"'{self.path_prefix}/*' must stay within {PATH_PATTERN_MAX_LENGTH} characters")
        self._validate_ingress_port()
        if not self.capacity_provider_strategy:
            raise ValueError("a capacity provider strategy is required (launch type is never set)")
        for key in self.plain_config:
            if not ENV_KEY.match(key):
                raise ValueError(f"config key {key!r} must be an environment variable name ({ENV_KEY.pattern})")
            if not self.plain_config[key]:
                raise ValueError(f"config key {key!r} is empty; SSM parameters cannot hold an empty value")
            if len(self.plain_config[key]) > SSM_STANDARD_VALUE_MAX_CHARACTERS:
                raise ValueError(f"config key {key!r} holds more than {SSM_STANDARD_VALUE_MAX_CHARACTERS} characters, "
                                 "the limit of a Standard SSM parameter")
        clashes = sorted(set(self.plain_config) & set(self.secrets))
        if clashes:
            raise ValueError(f"keys {clashes} are both plain config and secrets")
        for name in self.target_group_names:
            if not TARGET_GROUP_NAME.match(name):
                raise ValueError(f"target group name {name!r} exceeds 32 characters or uses invalid characters")

    def _validate_ingress_port(self) -> None:
        port = self.service_connect_ingress_port
        if not 1 <= port <= 65535:
            raise ValueError(f"Service Connect ingress port {port} must be within 1..65535")
        if port == self.container_port:
            raise ValueError(f"Service Connect ingress port {port} equals the container port: the proxy would "
                             "intercept the ALB's traffic and health checks (and with TLS accept only TLS 1.3 from "
                             "other proxies); pick another port")
        if self.tracing_enabled and port in containers.ADOT_COLLECTOR_PORTS:
            raise ValueError(f"Service Connect ingress port {port} is taken by the tracing collector "
                             f"{containers.ADOT_COLLECTOR_PORTS}")

    @property
    def target_group_names(self) -> tuple[str, str]:
        base = f"{self.environment}-{self.service_name}"
        return f"{base}-a", f"{base}-b"

    @property
    def dns_name(self) -> str:
        return f"{self.service_name}.{self.namespace_name}"


class MeshService(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    discovery_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    target_group_arns: pulumi.Output[list]
    execution_role_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]
    alarm_names: pulumi.Output[list]

    def __init__(self, name: str, args: MeshServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        self._args = args
        self._callers: set[str] = set()
        self.tags = {"service": args.service_name}
        # Sizing errors surface at construction, before any resource is registered.
        # The same call as StackSettings.task_size, so the preview's breakdown is what gets deployed.
        self.size: TaskSize = task_size(args.service_name, args.app_cpu, args.app_memory, args.tracing_enabled)

        self._logs_and_config()
        self._roles()
        self._task_definition()
        self._security_group()
        self.target_groups: list[lb.TargetGroup] = []
        self.listener_rule: Optional[lb.ListenerRule] = None
        if args.routing is not None:
            self._routing(args.routing)
        self._alarms()
        self._service()
        self._autoscaling()

        self.service_name = self.service.name
        self.service_arn = self.service.arn
        self.task_definition_arn = self.task_definition.arn
        self.security_group_id = self.security_group.id
        self.discovery_name = pulumi.Output.from_input(args.dns_name)
        self.log_group_name = self.log_group.name
        self.target_group_arns = pulumi.Output.all(*[tg.arn for tg in self.target_groups])
        self.execution_role_arn = self.execution_role.arn
        self.task_role_arn = self.task_role.arn
        self.alarm_names = pulumi.Output.all(*[alarm.name for alarm in self.alarms])
        self.register_outputs({
            "service_name": self.service_name,
            "service_arn": self.service_arn,
            "task_definition_arn": self.task_definition_arn,
            "security_group_id": self.security_group_id,
            "discovery_name": self.discovery_name,
            "log_group_name": self.log_group_name,
            "target_group_arns": self.target_group_arns,
            "execution_role_arn": self.execution_role_arn,
            "task_role_arn": self.task_role_arn,
            "alarm_names": self.alarm_names,
        })

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    # --- logs, plain config ------------------------------------------------------------------

    def _logs_and_config(self) -> None:
        args, name = self._args, self._name
        self.log_group = cloudwatch.LogGroup(
            f"{name}-logs", name=f"/ecs/{args.environment}/{args.service_name}",
            retention_in_days=args.log_retention_days, kms_key_id=args.kms_key_arn, tags=self.tags,
            opts=self._child())
        self.config_parameters: dict[str, ssm.Parameter] = {
            key: ssm.Parameter(
                f"{name}-config-{key.lower().replace('_', '-')}",
                name=f"/{args.environment}/{args.service_name}/{key}", type="String", tier="Standard",
                value=value, description=f"{args.service_name} plain configuration {key}", tags=self.tags,
                opts=self._child())
            for key, value in sorted(args.plain_config.items())
        }

    # --- IAM ---------------------------------------------------------------------------------

    def _roles(self) -> None:
        args, name = self._args, self._name
        cluster = pulumi.Output.from_input(args.cluster_arn).apply(iam_documents.parse_arn)
        self._account_id = cluster.apply(lambda parts: parts["account"])
        self._partition = cluster.apply(lambda parts: parts["partition"])

        def trust(conditions: bool) -> pulumi.Output[str]:
            return pulumi.Output.all(self._account_id, self._partition).apply(
                lambda values: json.dumps(iam_documents.trust_policy(
                    values[0], args.region, values[1], confused_deputy_conditions=conditions)))

        self.execution_role = iam.Role(
            f"{name}-execution-role", assume_role_policy=trust(False), permissions_boundary=args.permissions_boundary_arn,
            description=f"ECS task execution role of {args.environment}/{args.service_name}", tags=self.tags,
            opts=self._child())
        self.task_role = iam.Role(
            f"{name}-task-role", assume_role_policy=trust(True), permissions_boundary=args.permissions_boundary_arn,
            description=f"ECS task role of {args.environment}/{args.service_name}", tags=self.tags,
            opts=self._child())

        parameter_arns = [p.arn for p in self.config_parameters.values()]
        secret_arns = [value for value in args.secrets.values()]

        def execution_policy(values: list) -> str:
            (partition, account_id, repository_arn, kms_key_arn, log_group_name, resolved_secrets, resolved_params,
             collector_image) = values
            secret_manager_arns = [a for a in resolved_secrets if ":secretsmanager:" in a]
            # A `secrets` entry may also point at an SSM SecureString parameter; it is read like config.
            ssm_secret_arns = [a for a in resolved_secrets if ":ssm:" in a]
            return json.dumps(iam_documents.execution_role_policy(iam_documents.ExecutionRoleScope(
                partition=partition, region=args.region, account_id=account_id, repository_arn=repository_arn,
                log_group_name=log_group_name, kms_key_arn=kms_key_arn,
                collector_repository_arn=iam_documents.repository_arn_of_image(collector_image, partition)
                if args.tracing_enabled else None,
                secret_arns=secret_manager_arns, parameter_arns=[*resolved_params, *ssm_secret_arns])))

        self.execution_policy = iam.RolePolicy(
            f"{name}-execution-policy", role=self.execution_role.id,
            policy=pulumi.Output.all(self._partition, self._account_id, args.repository_arn, args.kms_key_arn,
                                     self.log_group.name, pulumi.Output.all(*secret_arns),
                                     pulumi.Output.all(*parameter_arns), args.collector_image_uri).apply(execution_policy),
            opts=self._child())
        task_policy = iam_documents.task_role_policy(args.tracing_enabled)
        self.task_policy = None
        if task_policy is not None:
            self.task_policy = iam.RolePolicy(
                f"{name}-task-policy", role=self.task_role.id, policy=json.dumps(task_policy), opts=self._child())

    # --- task definition ---------------------------------------------------------------------

    def _task_definition(self) -> None:
        args, name, size = self._args, self._name, self.size
        secret_refs = {**dict(args.secrets), **{key: p.arn for key, p in self.config_parameters.items()}}

        def definitions(values: list) -> str:
            image, log_group_name, resolved_refs, collector_image = values
            spec = containers.AppContainerSpec(
                service=args.service_name, environment=args.environment, region=args.region, image=image,
                container_port=args.container_port, health_path=args.health_path,
                cpu=size.app_cpu_limit, memory=size.app_memory_limit, log_group_name=log_group_name,
                secrets=resolved_refs, tracing_enabled=args.tracing_enabled,
                trace_sampling_ratio=args.trace_sampling_ratio,
                http_client_timeout_seconds=args.timeouts.http_client_seconds,
                service_connect_per_request_timeout_seconds=args.timeouts.per_request_seconds,
                collector_image=collector_image if args.tracing_enabled else None,
                sidecar_cpu=size.sidecar_cpu, sidecar_memory=size.sidecar_memory)
            return json.dumps(containers.container_definitions(spec))

        self.task_definition = ecs.TaskDefinition(
            f"{name}-taskdef", family=f"{args.environment}-{args.service_name}",
            cpu=str(size.task_cpu), memory=str(size.task_memory), network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"cpu_architecture": args.architecture, "operating_system_family": "LINUX"},
            execution_role_arn=self.execution_role.arn, task_role_arn=self.task_role.arn,
            volumes=containers.task_volumes(),
            container_definitions=pulumi.Output.all(
                args.image_uri, self.log_group.name, pulumi.Output.from_input(secret_refs),
                args.collector_image_uri).apply(definitions),
            tags=self.tags, opts=self._child())

    # --- network -----------------------------------------------------------------------------

    def _security_group(self) -> None:
        args, name = self._args, self._name
        # No inline ingress/egress: every rule is its own resource, including the ones other services'
        # edges add later. Without inline egress the provider also drops AWS's default allow-all egress.
        self.security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description=f"{args.environment}/{args.service_name} tasks: only declared callers, HTTPS out",
            tags={**self.tags, "Name": f"{args.environment}-{args.service_name}"}, opts=self._child())
        # AWS APIs (ECR, S3 layers, Logs, SSM, Secrets Manager, X-Ray, ECS agent for the proxy) are all
        # HTTPS: through interface endpoints in the VPC or the NAT. Endpoint and S3 prefix-list addresses
        # differ per region and change, so 443 to anywhere is allowed; nothing else leaves the task.
        vpc_rules.SecurityGroupEgressRule(
            f"{name}-egress-https", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_ipv4="0.0.0.0/0",
            description="HTTPS to AWS APIs (VPC endpoints, S3 gateway, NAT)", tags=self.tags, opts=self._child())

    def _open_port(self, *, ingress_name: str, egress_name: str, source_group_id: pulumi.Input[str], port: int,
                   ingress_description: str, egress_description: str, egress_tags: Mapping[str, str]) -> None:
        """One edge: ingress on this service's group from `source_group_id`, egress on that group to this one."""
        vpc_rules.SecurityGroupIngressRule(
            ingress_name, security_group_id=self.security_group.id, referenced_security_group_id=source_group_id,
            ip_protocol="tcp", from_port=port, to_port=port, description=ingress_description, tags=self.tags,
            opts=self._child())
        vpc_rules.SecurityGroupEgressRule(
            egress_name, security_group_id=source_group_id, referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp", from_port=port, to_port=port, description=egress_description, tags=dict(egress_tags),
            opts=self._child())

    def allow_calls_from(self, caller: "MeshService") -> None:
        """Let `caller`'s tasks reach this service's Service Connect proxy: ingress here, egress on the caller's group.

        The port is the proxy's ingress port, not the container port: the caller's proxy connects to this
        service's proxy, which forwards to the app over localhost.

        Both rules are children of this (the called) service, so one call per edge of the call graph
        opens exactly that edge and nothing else; cycles need no ordering because both groups exist
        before any edge is added. Calling twice for the same caller adds nothing.
        """
        if caller is self:
            raise ValueError(f"{self._name} cannot declare calls from itself")
        if caller._args.region != self._args.region:
            raise ValueError(f"{caller._name} ({caller._args.region}) and {self._name} ({self._args.region}) are in "
                             "different regions; Service Connect does not cross regions")
        if caller._name in self._callers:
            return
        self._callers.add(caller._name)
        self._open_port(
            ingress_name=f"{self._name}-in-from-{caller._name}", egress_name=f"{self._name}-out-of-{caller._name}",
            source_group_id=caller.security_group.id, port=self._args.service_connect_ingress_port,
            ingress_description=f"Service Connect calls from {caller._args.service_name} to the proxy",
            egress_description=f"Service Connect calls to the {self._args.service_name} proxy", egress_tags=caller.tags)

    # --- ALB routing -------------------------------------------------------------------------

    def _routing(self, routing: AlbRouting) -> None:
        args, name = self._args, self._name
        port = args.container_port
        for letter, tg_name in zip("ab", args.target_group_names):
            self.target_groups.append(lb.TargetGroup(
                f"{name}-tg-{letter}", name=tg_name, port=port, protocol="HTTP", protocol_version="HTTP1",
                target_type="ip", vpc_id=args.vpc_id, deregistration_delay=30,
                health_check={"enabled": True, "path": args.health_path, "protocol": "HTTP", "port": "traffic-port",
                              "matcher": "200", "interval": 15, "timeout": 5, "healthy_threshold": 2,
                              "unhealthy_threshold": 3},
                tags=self.tags, opts=self._child()))
        primary, alternate = self.target_groups
        # ECS rewrites the forward weights during every canary/linear shift; Pulumi must not undo them.
        self.listener_rule = lb.ListenerRule(
            f"{name}-route", listener_arn=routing.listener_arn, priority=routing.rule_priority,
            conditions=[{"path_pattern": {"values": [args.path_prefix, f"{args.path_prefix}/*"]}}],
            actions=[{"type": "forward", "forward": {"target_groups": [
                {"arn": primary.arn, "weight": 100}, {"arn": alternate.arn, "weight": 0}]}}],
            tags=self.tags, opts=self._child(ignore_changes=["actions"]))
        # The container port, where the app itself listens: the proxy is moved off it (ingress port
        # override), so ALB requests and traffic-port health checks reach the app in plain HTTP.
        self._open_port(
            ingress_name=f"{name}-in-from-alb", egress_name=f"{name}-alb-out",
            source_group_id=routing.alb_security_group_id, port=port,
            ingress_description="ALB traffic and health checks, straight to the app",
            egress_description=f"ALB to {args.service_name}", egress_tags=self.tags)

    # --- alarms ------------------------------------------------------------------------------

    def _alarm(self, logical: str, alarm_name: str, description: str, threshold: float, **metric: Any) -> cloudwatch.MetricAlarm:
        thresholds = self._args.alarm_thresholds
        return cloudwatch.MetricAlarm(
            f"{self._name}-{logical}", name=alarm_name, alarm_description=description,
            comparison_operator="GreaterThanThreshold", threshold=threshold,
            evaluation_periods=thresholds.evaluation_periods, datapoints_to_alarm=thresholds.datapoints_to_alarm,
            # No traffic is not a failure: an idle target group or a quiet night must not roll back a deploy.
            treat_missing_data="notBreaching", tags=self.tags, opts=self._child(), **metric)

    def _error_rate_queries(self, namespace: str, errors: tuple[str, dict], requests: tuple[str, dict]) -> list[dict]:
        period = self._args.alarm_thresholds.period_seconds

        def metric(query_id: str, metric_name: str, dimensions: dict) -> dict:
            return {"id": query_id, "return_data": False, "metric": {
                "namespace": namespace, "metric_name": metric_name, "dimensions": dimensions,
                "period": period, "stat": "Sum"}}

        return [
            metric("errors", *errors),
            metric("requests", *requests),
            {"id": "error_rate", "label": "5xx responses per request (%)", "return_data": True,
             "expression": "IF(FILL(requests, 0) > 0, 100 * FILL(errors, 0) / FILL(requests, 0), 0)"},
        ]

    def _rollback_alarms(self, suffix: str, scope: str, namespace: str, errors: tuple[str, dict],
                         requests: tuple[str, dict], latency_dimensions: dict, latency_threshold: float) -> None:
        """The 5xx-rate and p95-latency alarm of one metric source (a target group, or Service Connect)."""
        args = self._args
        thresholds = args.alarm_thresholds
        base = f"{args.environment}-{args.service_name}"
        self.alarms.append(self._alarm(
            f"5xx-rate{suffix}", f"{base}-5xx-rate{suffix}",
            f"{args.service_name}: target 5xx share of requests ({scope})", thresholds.error_rate_percent,
            metric_queries=self._error_rate_queries(namespace, errors, requests)))
        self.alarms.append(self._alarm(
            f"p95-latency{suffix}", f"{base}-p95-latency{suffix}",
            f"{args.service_name}: p95 target response time ({scope})", latency_threshold,
            namespace=namespace, metric_name="TargetResponseTime", dimensions=latency_dimensions,
            extended_statistic="p95", period=thresholds.period_seconds))

    def _alarms(self) -> None:
        args = self._args
        p95_ms = args.alarm_thresholds.p95_latency_ms
        self.alarms: list[cloudwatch.MetricAlarm] = []
        if args.routing is not None:
            # One pair per target group: after a blue/green swap the other group is production.
            for letter, target_group in zip("ab", self.target_groups):
                dimensions = {"TargetGroup": target_group.arn_suffix, "LoadBalancer": args.routing.alb_arn_suffix}
                self._rollback_alarms(
                    f"-tg-{letter}", f"target group {letter}", "AWS/ApplicationELB",
                    ("HTTPCode_Target_5XX_Count", dimensions), ("RequestCount", dimensions), dimensions,
                    # ALB TargetResponseTime is in seconds (ELB "CloudWatch metrics for your Application
                    # Load Balancer").
                    p95_ms / 1000.0)
        else:
            target = {"TargetDiscoveryName": args.service_name}
            inbound = {"ClusterName": args.cluster_name, "ServiceName": args.service_name,
                       "DiscoveryName": args.service_name}
            # Service Connect TargetResponseTime is in milliseconds.
            self._rollback_alarms("", "Service Connect", "AWS/ECS", ("HTTPCode_Target_5XX_Count", target),
                                  ("RequestCount", inbound), target, p95_ms)

    # --- service -----------------------------------------------------------------------------

    def _deployment_configuration(self) -> dict:
        deployment = self._args.deployment
        # Pulumi types the bake times as strings.
        configuration: dict = {"strategy": deployment.strategy, "bake_time_in_minutes": str(deployment.bake_time_minutes)}
        if deployment.strategy == "CANARY":
            configuration["canary_configuration"] = {
                "canary_percent": float(deployment.canary_percent),
                "canary_bake_time_in_minutes": str(deployment.canary_bake_minutes)}
        else:
            configuration["linear_configuration"] = {
                "step_percent": float(deployment.step_percent),
                "step_bake_time_in_minutes": str(deployment.step_bake_minutes)}
        return configuration

    def _service_connect_configuration(self) -> dict:
        args = self._args
        service: dict = {
            "port_name": containers.SERVICE_CONNECT_PORT_NAME,
            # The discovery name allows no dots; clients use the alias <name>.<namespace>.
            "discovery_name": args.service_name,
            # Clients keep dialling <name>.<namespace>:<container port>; their proxy forwards to ours.
            "client_alias": [{"port": args.container_port, "dns_name": args.dns_name}],
            "ingress_port_override": args.service_connect_ingress_port,
            "timeout": {"per_request_timeout_seconds": args.timeouts.per_request_seconds,
                        "idle_timeout_seconds": args.timeouts.idle_seconds},
        }
        tls = args.service_connect_tls
        if tls.enabled:
            service["tls"] = {"issuer_cert_authority": {"aws_pca_authority_arn": tls.certificate_authority_arn},
                              "role_arn": tls.role_arn, "kms_key": tls.kms_key_arn}
        return {
            "enabled": True,
            "namespace": args.namespace_arn,
            "log_configuration": {"log_driver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.region,
                "awslogs-stream-prefix": "service-connect"}},
            # Query strings can carry tokens and personal data; keep them out of the access log.
            "access_log_configuration": {"format": "JSON", "include_query_parameters": "DISABLED"},
            "services": [service],
        }

    def _service(self) -> None:
        args, name = self._args, self._name
        depends_on: list[pulumi.Resource] = [self.execution_policy, *args.service_connect_tls.depends_on]
        if self.task_policy is not None:
            depends_on.append(self.task_policy)
        ignore_changes = ["desiredCount"]
        extra: dict = {}
        if args.routing is not None:
            primary, alternate = self.target_groups
            extra["load_balancers"] = [{
                "target_group_arn": primary.arn, "container_name": args.service_name,
                "container_port": args.container_port,
                "advanced_configuration": {"alternate_target_group_arn": alternate.arn,
                                           "production_listener_rule": self.listener_rule.arn,
                                           "role_arn": args.routing.load_balancer_role_arn}}]
            extra["health_check_grace_period_seconds"] = args.routing.health_check_grace_period_seconds
            depends_on += [self.listener_rule, *args.routing.depends_on]
            # After a shift ECS reports the former alternate group as the service's target group; a
            # Pulumi "correction" would start another deployment. Changing the wiring is a deliberate act.
            ignore_changes.append("loadBalancers")
        self.service = ecs.Service(
            f"{name}-service", name=args.service_name, cluster=args.cluster_arn,
            task_definition=self.task_definition.arn, desired_count=args.min_tasks,
            capacity_provider_strategies=[dict(item) for item in args.capacity_provider_strategy],
            network_configuration={"subnets": args.private_subnet_ids, "security_groups": [self.security_group.id],
                                   "assign_public_ip": False},
            deployment_controller={"type": "ECS"},
            deployment_configuration=self._deployment_configuration(),
            alarms={"alarm_names": [alarm.name for alarm in self.alarms], "enable": True, "rollback": True},
            service_connect_configuration=self._service_connect_configuration(),
            enable_ecs_managed_tags=True, propagate_tags="SERVICE", tags=self.tags,
            opts=self._child(depends_on=depends_on, ignore_changes=ignore_changes),
            **extra)

    # --- autoscaling -------------------------------------------------------------------------

    def _autoscaling(self) -> None:
        args, name = self._args, self._name
        scaling = args.scaling
        self.scaling_target = appautoscaling.Target(
            f"{name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", args.cluster_name, "/", self.service.name),
            min_capacity=args.min_tasks, max_capacity=args.max_tasks, tags=self.tags, opts=self._child())

        def tracking(logical: str, metric_type: str, target: float):
            return appautoscaling.Policy(
                f"{name}-{logical}", policy_type="TargetTrackingScaling",
                resource_id=self.scaling_target.resource_id, scalable_dimension=self.scaling_target.scalable_dimension,
                service_namespace=self.scaling_target.service_namespace,
                target_tracking_scaling_policy_configuration={
                    "predefined_metric_specification": {"predefined_metric_type": metric_type}, "target_value": target,
                    "scale_in_cooldown": scaling.scale_in_cooldown_seconds,
                    "scale_out_cooldown": scaling.scale_out_cooldown_seconds},
                opts=self._child())

        self.scaling_policies = [
            tracking("scale-cpu", "ECSServiceAverageCPUUtilization", scaling.cpu_percent),
            tracking("scale-memory", "ECSServiceAverageMemoryUtilization", scaling.memory_percent),
        ]
