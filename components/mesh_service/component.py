"""MeshService: one microservice on ECS Fargate, meshed through ECS Service Connect.

What one instance builds (all children of the component): its log group and SSM config parameters, the
execution and task roles (iam.py), the right-sized task definition (task_definition.py), its security
group with separate rules, for routed services a blue/green target-group pair and listener rule
(routing.py), rollback alarms (alarms.py), the ECS service with canary/linear deployments, and
autoscaling (autoscaling.py). Design decisions: docs/mesh-service.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws.cloudwatch as cloudwatch
import pulumi_aws.ec2 as ec2
import pulumi_aws.ecs as ecs
import pulumi_aws.lb as lb
import pulumi_aws.ssm as ssm
import pulumi_aws.vpc as vpc_rules

from components.core import outputs
from components.legacy.legacy_route import ROLLING_CIRCUIT_BREAKER, ROLLING_DEPLOYMENT
from components.mesh_service import container_definitions as containers
from components.mesh_service.alarms import create_rollback_alarms
from components.mesh_service.args import HEALTH_CHECK_GRACE_PERIOD_SECONDS, MeshServiceArgs
from components.mesh_service.autoscaling import create_autoscaling
from components.mesh_service.iam import create_roles
from components.mesh_service.routing import create_routing
from components.mesh_service.sizing import TaskSize, task_size
from components.mesh_service.task_definition import create_task_definition

COMPONENT_TYPE = "microservices:platform:MeshService"
HTTPS_PORT = 443
ON_DEMAND_ONLY: ecs.ServiceCapacityProviderStrategyArgsDict = {"capacity_provider": "FARGATE", "base": 0, "weight": 1}


def capacity_strategy(interruptible: bool, cluster_strategy: Sequence[ecs.ServiceCapacityProviderStrategyArgsDict],
                      ) -> list[ecs.ServiceCapacityProviderStrategyArgsDict]:
    """The cluster's strategy (its Spot share) for a service that tolerates Spot's two-minute notice; FARGATE
    alone for any other, so a Spot reclaim never cuts its requests."""
    if interruptible:
        return [item.copy() for item in cluster_strategy]
    return [ON_DEMAND_ONLY.copy()]


class MeshService(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    """The ECS service name (the catalog name)."""
    service_arn: pulumi.Output[str]
    """The ECS service ARN."""
    task_definition_arn: pulumi.Output[str]
    """The task definition revision this program registered."""
    security_group_id: pulumi.Output[str]
    """The tasks' own security group (they also wear the client groups of the services they call)."""
    discovery_name: pulumi.Output[str]
    """`<service>.<namespace>`: the Service Connect client alias callers dial."""
    log_group_name: pulumi.Output[str]
    """The log group of the app, the tracing sidecar and the Service Connect proxy."""
    target_group_arns: pulumi.Output[list[str]]
    """The blue/green target-group pair (empty for an internal service)."""
    execution_role_arn: pulumi.Output[str]
    """The role ECS uses to pull the image, write logs and resolve secrets."""
    task_role_arn: pulumi.Output[str]
    """The role the containers run as."""
    alarm_names: pulumi.Output[list[str]]
    """The alarms that roll a deployment back."""

    def __init__(self, name: str, args: MeshServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        self._args = args
        service, operations = args.service, args.operations
        self.tags = {"service": service.name}
        # Sizing errors surface at construction, before any resource is registered. The same call as
        # StackSettings.task_size, so the preview's breakdown is what gets deployed.
        self.size: TaskSize = task_size(service.name, service.cpu, service.memory, operations.tracing_enabled)

        self._logs_and_config()
        self.roles = create_roles(name, args, log_group_name=self.log_group.name,
                                  parameter_arns=[p.arn for p in self.config_parameters.values()],
                                  tags=self.tags, child=self._child)
        secret_refs = {**dict(args.secret_arns), **{key: p.arn for key, p in self.config_parameters.items()}}
        self.task_definition = create_task_definition(
            name, args, size=self.size, roles=self.roles, log_group_name=self.log_group.name,
            secret_refs=secret_refs, tags=self.tags, child=self._child)
        self._security_group()
        self._admit_callers()
        self.routing = None
        if service.routed:
            self.routing = create_routing(name, args, tags=self.tags, child=self._child)
            self._allow_load_balancer()
        self.alarms = create_rollback_alarms(
            name, args, target_groups=self.routing.target_groups if self.routing else None, tags=self.tags,
            child=self._child)
        self._service()
        self.scaling_target, self.scaling_policies = create_autoscaling(
            name, args, ecs_service=self.service, tags=self.tags, child=self._child)

        self.service_name = self.service.name
        self.service_arn = self.service.arn
        self.task_definition_arn = self.task_definition.arn
        self.security_group_id = self.security_group.id
        self.discovery_name = pulumi.Output.from_input(args.dns_name)
        self.log_group_name = self.log_group.name
        self.target_group_arns = outputs.all_values(*[tg.arn for tg in self.target_groups])
        self.execution_role_arn = self.roles.execution_role.arn
        self.task_role_arn = self.roles.task_role.arn
        self.alarm_names = outputs.all_values(*[alarm.name for alarm in self.alarms])
        self.register_outputs({
            "serviceName": self.service_name,
            "serviceArn": self.service_arn,
            "taskDefinitionArn": self.task_definition_arn,
            "securityGroupId": self.security_group_id,
            "discoveryName": self.discovery_name,
            "logGroupName": self.log_group_name,
            "targetGroupArns": self.target_group_arns,
            "executionRoleArn": self.execution_role_arn,
            "taskRoleArn": self.task_role_arn,
            "alarmNames": self.alarm_names,
        })

    @property
    def target_groups(self) -> tuple[lb.TargetGroup, ...]:
        return self.routing.target_groups if self.routing else ()

    def _child(self, **extra: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **extra)

    # --- logs, plain config ------------------------------------------------------------------

    def _logs_and_config(self) -> None:
        args, name = self._args, self._name
        environment, service = args.platform.environment, args.service
        self.log_group = cloudwatch.LogGroup(
            f"{name}-logs", name=f"/ecs/{environment}/{service.name}",
            retention_in_days=args.operations.log_retention_days, kms_key_id=args.platform.kms_key_arn,
            tags=self.tags, opts=self._child())
        self.config_parameters: dict[str, ssm.Parameter] = {
            key: ssm.Parameter(
                f"{name}-config-{key.lower().replace('_', '-')}",
                name=f"/{environment}/{service.name}/{key}", type="String", tier="Standard",
                value=value, description=f"{service.name} plain configuration {key}", tags=self.tags,
                opts=self._child())
            for key, value in sorted({**service.config, **args.platform_config}.items())
        }

    # --- network -----------------------------------------------------------------------------

    def _security_group(self) -> None:
        args, name = self._args, self._name
        environment, service = args.platform.environment, args.service.name
        # No inline ingress/egress: every rule is its own resource, including the ones other services'
        # edges add later. Without inline egress the provider also drops AWS's default allow-all egress.
        self.security_group = ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.platform.network.vpc_id,
            description=f"{environment}/{service} tasks: only declared callers, HTTPS out",
            tags={**self.tags, "Name": f"{environment}-{service}"}, opts=self._child())
        # AWS APIs (ECR, S3 layers, Logs, SSM, Secrets Manager, X-Ray, ECS agent for the proxy) are all
        # HTTPS. Without NAT each has an interface endpoint in the VPC or is S3 behind the gateway endpoint,
        # so egress is exactly those two destinations. With NAT, the APIs without an endpoint are reached at
        # their public addresses, which differ per region and change, so 443 to anywhere is allowed there
        # (README, "Accepted scanner findings"); nothing else leaves the task in either case.
        network = args.platform.network
        if network.has_nat:
            vpc_rules.SecurityGroupEgressRule(
                f"{name}-egress-https", security_group_id=self.security_group.id, ip_protocol="tcp",
                from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs (VPC endpoints, S3 gateway, NAT)", tags=self.tags, opts=self._child())
            return
        vpc_rules.SecurityGroupEgressRule(
            f"{name}-egress-endpoints", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=HTTPS_PORT, to_port=HTTPS_PORT, cidr_ipv4=network.vpc_cidr,
            description="HTTPS to the interface endpoints in the VPC", tags=self.tags, opts=self._child())
        vpc_rules.SecurityGroupEgressRule(
            f"{name}-egress-s3", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=HTTPS_PORT, to_port=HTTPS_PORT, prefix_list_id=network.s3_prefix_list_id,
            description="HTTPS to S3 through the gateway endpoint (image layers)", tags=self.tags,
            opts=self._child())

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

    def _admit_callers(self) -> None:
        """Callers wear this service's client group; it may reach this service's Service Connect proxy.

        The port is the proxy's ingress port, not the container port: the caller's proxy connects to this
        service's proxy, which forwards to the app over localhost. Two rules whatever the number of callers.
        """
        args = self._args
        if args.client_security_group_id is None:
            return
        self._open_port(
            ingress_name=f"{self._name}-in-from-clients", egress_name=f"{self._name}-clients-out",
            source_group_id=args.client_security_group_id, port=args.service_connect_ingress_port,
            ingress_description=f"Service Connect calls from tasks wearing the {args.service.name} client group",
            egress_description=f"Service Connect calls to the {args.service.name} proxy", egress_tags=self.tags)

    def _allow_load_balancer(self) -> None:
        # The container port, where the app itself listens: the proxy is moved off it (ingress port
        # override), so ALB requests and traffic-port health checks reach the app in plain HTTP.
        args = self._args
        self._open_port(
            ingress_name=f"{self._name}-in-from-alb", egress_name=f"{self._name}-alb-out",
            source_group_id=args.platform.load_balancer.security_group_id, port=args.service.port,
            ingress_description="ALB traffic and health checks, straight to the app",
            egress_description=f"ALB to {args.service.name}", egress_tags=self.tags)

    # --- service -----------------------------------------------------------------------------

    def _deployment_configuration(self) -> ecs.ServiceDeploymentConfigurationArgsDict:
        deployment = self._args.operations.deployment
        # Pulumi types the bake times as strings.
        configuration: ecs.ServiceDeploymentConfigurationArgsDict = {"strategy": deployment.strategy, "bake_time_in_minutes": str(deployment.bake_time_minutes)}
        if deployment.strategy == "CANARY":
            configuration["canary_configuration"] = {
                "canary_percent": float(deployment.canary_percent),
                "canary_bake_time_in_minutes": str(deployment.canary_bake_minutes)}
        else:
            configuration["linear_configuration"] = {
                "step_percent": float(deployment.step_percent),
                "step_bake_time_in_minutes": str(deployment.step_bake_minutes)}
        return configuration

    def _service_connect_configuration(self) -> ecs.ServiceServiceConnectConfigurationArgsDict:
        args = self._args
        service, timeouts = args.service, args.operations.timeouts
        entry: ecs.ServiceServiceConnectConfigurationServiceArgsDict = {
            "port_name": containers.SERVICE_CONNECT_PORT_NAME,
            # The discovery name allows no dots; clients use the alias <name>.<namespace>.
            "discovery_name": service.name,
            # Clients keep dialling <name>.<namespace>:<container port>; their proxy forwards to ours.
            "client_alias": [{"port": service.port, "dns_name": args.dns_name}],
            "ingress_port_override": args.service_connect_ingress_port,
            "timeout": {"per_request_timeout_seconds": timeouts.per_request_seconds,
                        "idle_timeout_seconds": timeouts.idle_seconds},
        }
        tls = args.platform.service_connect_tls
        if tls is not None:
            entry["tls"] = {"issuer_cert_authority": {"aws_pca_authority_arn": tls.certificate_authority_arn},
                            "role_arn": tls.role_arn, "kms_key": tls.kms_key_arn}
        return {
            "enabled": True,
            "namespace": args.platform.cluster.namespace_arn,
            "log_configuration": {"log_driver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.platform.region,
                "awslogs-stream-prefix": "service-connect"}},
            # Query strings can carry tokens and personal data; keep them out of the access log.
            "access_log_configuration": {"format": "JSON", "include_query_parameters": "DISABLED"},
            "services": [entry],
        }

    def _service(self) -> None:
        args, name = self._args, self._name
        platform, service = args.platform, args.service
        depends_on: list[pulumi.Resource] = [self.roles.execution_policy, *platform.cluster.depends_on]
        if platform.service_connect_tls is not None:
            depends_on += platform.service_connect_tls.depends_on
        if self.roles.task_policy is not None:
            depends_on.append(self.roles.task_policy)
        ignore_changes = ["desiredCount"]
        load_balancers: list[ecs.ServiceLoadBalancerArgsDict] | None = None
        health_check_grace_period_seconds: int | None = None
        circuit_breaker: ecs.ServiceDeploymentCircuitBreakerArgsDict | None = None
        deployment_configuration = self._deployment_configuration()
        if self.routing is not None:
            primary, alternate = self.routing.target_groups
            target: ecs.ServiceLoadBalancerArgsDict = {"target_group_arn": primary.arn, "container_name": service.name,
                      "container_port": service.port}
            if args.legacy is None:
                target["advanced_configuration"] = {
                    "alternate_target_group_arn": alternate.arn,
                    "production_listener_rule": self.routing.listener_rule.arn,
                    "role_arn": platform.load_balancer.deployment_role_arn}
            else:
                # The legacy split rule forwards to the primary group, so the live tasks must stay there.
                deployment_configuration = ROLLING_DEPLOYMENT.copy()
                circuit_breaker = ROLLING_CIRCUIT_BREAKER.copy()
            load_balancers = [target]
            health_check_grace_period_seconds = HEALTH_CHECK_GRACE_PERIOD_SECONDS
            depends_on += [self.routing.listener_rule, *platform.load_balancer.depends_on]
            # After a shift ECS reports the former alternate group as the service's target group (and the
            # former primary as the alternate); a Pulumi "correction" would start another deployment. The
            # rest of the wiring stays Pulumi's, so ending a legacy split adds the blue/green configuration.
            ignore_changes += ["loadBalancers[0].targetGroupArn",
                               "loadBalancers[0].advancedConfiguration.alternateTargetGroupArn"]
        self.service = ecs.Service(
            f"{name}-service", name=service.name, cluster=platform.cluster.arn,
            task_definition=self.task_definition.arn, desired_count=service.min_tasks,
            capacity_provider_strategies=capacity_strategy(service.interruptible,
                                                           platform.cluster.capacity_provider_strategy),
            network_configuration={"subnets": platform.network.private_subnet_ids,
                                   "security_groups": [self.security_group.id,
                                                       *args.callee_client_security_group_ids],
                                   "assign_public_ip": False},
            deployment_controller={"type": "ECS"},
            deployment_configuration=deployment_configuration,
            alarms={"alarm_names": [alarm.name for alarm in self.alarms], "enable": True, "rollback": True},
            service_connect_configuration=self._service_connect_configuration(),
            enable_ecs_managed_tags=True, propagate_tags="SERVICE", tags=self.tags,
            load_balancers=load_balancers, health_check_grace_period_seconds=health_check_grace_period_seconds,
            deployment_circuit_breaker=circuit_breaker,
            opts=self._child(depends_on=depends_on, ignore_changes=ignore_changes))
