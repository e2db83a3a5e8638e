"""Monthly cost of a stack from the resources it registers (not from its config).

Pure: resources in, :class:`Estimate` out. The same function serves the preview (records of the
mock run) and the budget-guard policy (the resources of an AnalyzeStack request), so the policy
recomputes the figure from what the engine sees and never trusts one the program reports.

Each priced resource yields line items (USD per month) with the arithmetic spelled out in
``basis``; a resource whose type costs money but that the estimator cannot price is listed in
``Estimate.unpriced`` instead of silently counting as zero. docs/cost-model.md has the model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..values import as_list, get_path, is_known_text, is_unknown
from .assumptions import UsageAssumptions
from .prices import PriceBook, RegionPrices

STACK_TYPE = "pulumi:pulumi:Stack"
DEFAULT_SERVICE_COMPONENT_TYPES = frozenset({"microservices:platform:MeshService"})

# Types that cost nothing by themselves (configuration, identity, routing, or billed through
# another resource: a task definition through its service, an EIP's NAT gateway through the EIP).
FREE_TYPES = frozenset({
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule", "aws:lb/targetGroup:TargetGroup",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    "aws:ecs/cluster:Cluster", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:ecs/taskDefinition:TaskDefinition", "aws:appautoscaling/target:Target",
    "aws:appautoscaling/policy:Policy", "aws:kms/alias:Alias",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration", "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation",
    "aws:acmpca/certificate:Certificate", "aws:acmpca/certificateAuthorityCertificate:CertificateAuthorityCertificate",
    "aws:acmpca/permission:Permission", "aws:route53/record:Record", "aws:servicediscovery/service:Service",
    "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget",
    "aws:cloudwatch/queryDefinition:QueryDefinition",  # saved queries are free; a query bills its scan
    "aws:xray/samplingRule:SamplingRule",  # rules are free; traces are billed per trace recorded
    "aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redrivePolicy:RedrivePolicy",
    "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:costexplorer/costAllocationTag:CostAllocationTag", "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
    "aws:costexplorer/anomalySubscription:AnomalySubscription", "aws:rds/subnetGroup:SubnetGroup",
    "aws:accessanalyzer/analyzer:Analyzer", "aws:lambda/permission:Permission",
    "aws:ec2/natGateway:NatGateway#eip",
})


@dataclass(frozen=True)
class CostResource:
    """A registered resource as the estimator needs it: wire (camelCase) inputs, region, parent."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    region: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class LineItem:
    """One monthly charge of one resource."""

    urn: str
    resource: str
    driver: str
    component: str
    service: str | None
    usd: float
    basis: str


@dataclass(frozen=True)
class Estimate:
    """A stack's monthly estimate; amounts in USD internally, EUR through :meth:`eur`."""

    items: tuple[LineItem, ...]
    eur_to_usd: float
    unpriced: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def eur(self, usd: float) -> float:
        return usd / self.eur_to_usd

    @property
    def total_usd(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def total_eur(self) -> float:
        return self.eur(self.total_usd)

    def _grouped(self, key: Callable[[LineItem], str | None]) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for item in self.items:
            group = key(item)
            if group is not None:
                sums[group] += item.usd
        return {group: self.eur(usd) for group, usd in sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))}

    def by_component(self) -> dict[str, float]:
        """EUR per top-level component (outermost ancestor below the stack), largest first."""
        return self._grouped(lambda item: item.component)

    def by_service(self) -> dict[str, float]:
        """EUR per service (resources inside a service component), largest first."""
        return self._grouped(lambda item: item.service)

    def by_driver(self) -> dict[str, float]:
        """EUR per cost driver (e.g. "interface endpoints", "Fargate tasks (auth)"), largest first."""
        return self._grouped(lambda item: item.driver)

    def top_drivers(self, count: int = 3) -> list[tuple[str, float]]:
        return list(self.by_driver().items())[:count]

    def to_json(self) -> dict[str, Any]:
        rounded = lambda groups: {k: round(v, 2) for k, v in groups.items()}  # noqa: E731
        return {
            "totalEur": round(self.total_eur, 2),
            "totalUsd": round(self.total_usd, 2),
            "eurToUsd": self.eur_to_usd,
            "byComponent": rounded(self.by_component()),
            "byService": rounded(self.by_service()),
            "topDrivers": [{"driver": d, "eur": round(e, 2)} for d, e in self.top_drivers(5)],
            "items": [{"resource": i.resource, "driver": i.driver, "component": i.component, "service": i.service,
                       "eur": round(self.eur(i.usd), 4), "basis": i.basis} for i in self.items],
            "unpriced": list(self.unpriced),
            "notes": list(self.notes),
        }


# --- adapters -------------------------------------------------------------------------------------

def resources_from_records(records: Iterable[Mapping[str, Any]]) -> list[CostResource]:
    """CostResources from the offline preview's ``--json`` records."""
    resources = []
    for record in records:
        inputs = record.get("inputs") or {}
        region = inputs.get("region") if is_known_text(inputs.get("region")) else record.get("providerRegion")
        resources.append(CostResource(urn=record["urn"], type=record["type"], name=record["name"], inputs=inputs,
                                      region=region, parent=record.get("parent")))
    return resources


# --- helpers --------------------------------------------------------------------------------------

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)?\s*$", re.IGNORECASE)


def _size(value: Any, whole_unit: str) -> float | None:
    """A task size in whole units: "1024" (CPU units or MiB, 1024 to the unit) or "1 vCPU" / "2 GB"."""
    if is_unknown(value) or value is None:
        return None
    match = _SIZE.match(str(value))
    if not match:
        return None
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    return number if unit == whole_unit else number / 1024


def _cpu_vcpu(value: Any) -> float | None:
    """Task cpu as vCPUs: "1024" (units) or "1 vCPU"."""
    return _size(value, "vcpu")


def _memory_gb(value: Any) -> float | None:
    """Task memory as GB: "2048" (MiB) or "2 GB"."""
    return _size(value, "gb")


def _number(value: Any) -> float | None:
    if is_unknown(value) or value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _arn_tail(value: Any) -> str | None:
    """The name at the end of an ARN-ish reference (``.../cluster/NAME``, ``.../family:3``)."""
    if not is_known_text(value):
        return None
    return str(value).rsplit("/", 1)[-1]


def split_tasks(tasks: float, strategy: Sequence[Mapping[str, Any]]) -> tuple[float, float]:
    """(on-demand, Spot) share of ``tasks`` under a capacity provider strategy: the ``base`` tasks
    go to their provider first, the rest is split by ``weight`` (ECS's documented placement)."""
    remaining = tasks
    on_demand = spot = 0.0
    for entry in strategy:
        base = min(_number(entry.get("base")) or 0.0, remaining)
        if entry.get("capacityProvider") == "FARGATE_SPOT":
            spot += base
        else:
            on_demand += base
        remaining -= base
    weights = [(entry.get("capacityProvider"), _number(entry.get("weight")) or 0.0) for entry in strategy]
    total = sum(weight for _, weight in weights)
    if remaining > 0 and total > 0:
        spot_weight = sum(weight for provider, weight in weights if provider == "FARGATE_SPOT")
        spot += remaining * spot_weight / total
        on_demand += remaining * (total - spot_weight) / total
    elif remaining > 0:
        on_demand += remaining
    return on_demand, spot


# --- the estimator --------------------------------------------------------------------------------

class _Context:
    """Lookups over the whole resource list that several pricers share."""

    def __init__(self, resources: Sequence[CostResource], service_component_types: frozenset[str]):
        self.by_urn = {r.urn: r for r in resources}
        self.by_type: dict[str, list[CostResource]] = defaultdict(list)
        for r in resources:
            self.by_type[r.type].append(r)
        self.service_component_types = service_component_types
        self._service_names: dict[str, str] = {}
        for r in resources:
            tag = get_path(r.inputs, "tags", "service")
            owner = self.service_component(r)
            if owner is not None and is_known_text(tag):
                self._service_names.setdefault(owner.urn, tag)

    def ancestors(self, resource: CostResource) -> list[CostResource]:
        chain, seen, parent = [], set(), resource.parent
        while parent and parent in self.by_urn and parent not in seen:
            seen.add(parent)
            node = self.by_urn[parent]
            if node.type == STACK_TYPE:
                break
            chain.append(node)
            parent = node.parent
        return chain

    def component(self, resource: CostResource) -> str:
        chain = self.ancestors(resource)
        top = chain[-1] if chain else None
        return f"{top.type.rsplit(':', 1)[-1]} {top.name}" if top else "(stack)"

    def service_component(self, resource: CostResource) -> CostResource | None:
        return next((a for a in self.ancestors(resource) if a.type in self.service_component_types), None)

    def service(self, resource: CostResource) -> str | None:
        owner = self.service_component(resource)
        if owner is None:
            return None
        return self._service_names.get(owner.urn, owner.name)

    def siblings(self, resource: CostResource, type_: str) -> list[CostResource]:
        return [r for r in self.by_type.get(type_, []) if r.parent == resource.parent]


class _Pricer:
    """Prices one stack's resources; one method per priced type (``_<service>_<kind>``)."""

    def __init__(self, resources: Sequence[CostResource], prices: PriceBook, assumptions: UsageAssumptions,
                 default_region: str | None, service_component_types: frozenset[str]):
        self.ctx = _Context(resources, service_component_types)
        self.prices = prices
        self.usage = assumptions
        self.hours = prices.hours_per_month
        self.default_region = default_region
        self.items: list[LineItem] = []
        self.unpriced: list[str] = []
        self.notes: list[str] = []
        self.nat_count = len(resources and self.ctx.by_type.get("aws:ec2/natGateway:NatGateway", []))

    def add(self, resource: CostResource, driver: str, usd: float, basis: str) -> None:
        if usd <= 0:
            return
        self.items.append(LineItem(urn=resource.urn, resource=f"{resource.type} '{resource.name}'", driver=driver,
                                   component=self.ctx.component(resource), service=self.ctx.service(resource),
                                   usd=usd, basis=basis))

    def region_prices(self, resource: CostResource) -> RegionPrices | None:
        return self.prices.region(resource.region or self.default_region)

    def run(self, resources: Sequence[CostResource]) -> None:
        pricers: dict[str, Callable[[CostResource, RegionPrices], None]] = {
            "aws:ecs/service:Service": self._ecs_service,
            "aws:ec2/natGateway:NatGateway": self._nat_gateway,
            "aws:ec2/eip:Eip": self._eip,
            "aws:ec2/vpcEndpoint:VpcEndpoint": self._vpc_endpoint,
            "aws:lb/loadBalancer:LoadBalancer": self._load_balancer,
            "aws:acmpca/certificateAuthority:CertificateAuthority": self._private_ca,
            "aws:route53/zone:Zone": self._hosted_zone,
            "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": self._hosted_zone,
            "aws:servicediscovery/publicDnsNamespace:PublicDnsNamespace": self._hosted_zone,
            "aws:route53/healthCheck:HealthCheck": self._health_check,
            "aws:cloudwatch/logGroup:LogGroup": self._log_group,
            "aws:cloudwatch/logMetricFilter:LogMetricFilter": self._metric_filter,
            "aws:cloudwatch/metricAlarm:MetricAlarm": self._metric_alarm,
            "aws:cloudwatch/compositeAlarm:CompositeAlarm": self._composite_alarm,
            "aws:cloudwatch/dashboard:Dashboard": self._dashboard,
            "aws:ecs/cluster:Cluster": self._cluster,
            "aws:secretsmanager/secret:Secret": self._secret,
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/replicaKey:ReplicaKey": self._kms_key,
            "aws:ecr/repository:Repository": self._ecr_repository,
            "aws:ssm/parameter:Parameter": self._ssm_parameter,
            "aws:s3/bucket:Bucket": self._s3_bucket,
            "aws:s3/bucketV2:BucketV2": self._s3_bucket,
            "aws:dynamodb/table:Table": self._dynamodb_table,
            "aws:rds/cluster:Cluster": self._aurora_cluster,
            "aws:rds/clusterInstance:ClusterInstance": self._aurora_instance,
            "aws:sqs/queue:Queue": self._sqs_queue,
            "aws:cloudwatch/eventBus:EventBus": self._event_bus,
            "aws:cloudwatch/eventArchive:EventArchive": self._event_archive,
            "aws:pipes/pipe:Pipe": self._pipe,
            "aws:cloudtrail/trail:Trail": self._trail,
            "aws:sns/topic:Topic": self._sns_topic,
            "aws:budgets/budget:Budget": self._budget,
            "aws:lambda/function:Function": self._lambda_function,
        }
        for resource in resources:
            pricer = pricers.get(resource.type)
            if pricer is None:
                if resource.type.startswith("aws:") and resource.type not in FREE_TYPES:
                    self.unpriced.append(f"{resource.type} '{resource.name}' (no price model for this type)")
                continue
            prices = self.region_prices(resource)
            if prices is None:
                self.unpriced.append(f"{resource.type} '{resource.name}' (no prices for region "
                                     f"{resource.region or self.default_region or 'unknown'})")
                continue
            pricer(resource, prices)

    # -- compute ----------------------------------------------------------------------------------

    def _task_definition(self, service: CostResource) -> CostResource | None:
        family = _arn_tail(service.inputs.get("taskDefinition"))
        family = family.split(":", 1)[0] if family else None
        candidates = self.ctx.by_type.get("aws:ecs/taskDefinition:TaskDefinition", [])
        named = [t for t in candidates if family and t.inputs.get("family") == family]
        if named:
            return named[0]
        siblings = self.ctx.siblings(service, "aws:ecs/taskDefinition:TaskDefinition")
        return siblings[0] if len(siblings) == 1 else None

    def _average_tasks(self, service: CostResource) -> tuple[float, str]:
        name = service.inputs.get("name")
        targets = [t for t in self.ctx.by_type.get("aws:appautoscaling/target:Target", [])
                   if t.inputs.get("serviceNamespace") == "ecs"
                   and is_known_text(name) and str(t.inputs.get("resourceId", "")).endswith(f"/{name}")]
        targets = targets or self.ctx.siblings(service, "aws:appautoscaling/target:Target")
        if targets:
            low, high = _number(targets[0].inputs.get("minCapacity")), _number(targets[0].inputs.get("maxCapacity"))
            if low is not None and high is not None:
                fraction = self.usage.average_task_fraction
                return low + fraction * (high - low), f"{low:g}+{fraction:g}x({high:g}-{low:g}) tasks"
        desired = _number(service.inputs.get("desiredCount"))
        return (desired if desired is not None else 1.0), "desiredCount tasks"

    def _strategy(self, service: CostResource) -> list[Mapping[str, Any]]:
        own = service.inputs.get("capacityProviderStrategies")
        if isinstance(own, list) and own:
            return own
        if service.inputs.get("launchType") in ("FARGATE", "EC2", "EXTERNAL"):
            return [{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]
        cluster_name = _arn_tail(service.inputs.get("cluster"))
        defaults = self.ctx.by_type.get("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", [])
        matching = [d for d in defaults if d.inputs.get("clusterName") == cluster_name] or (
            defaults if len(defaults) == 1 else [])
        strategy = matching[0].inputs.get("defaultCapacityProviderStrategies") if matching else None
        return strategy if isinstance(strategy, list) and strategy else [{"capacityProvider": "FARGATE", "weight": 1}]

    def _ecs_service(self, service: CostResource, prices: RegionPrices) -> None:
        label = self.ctx.service(service) or str(service.inputs.get("name") or service.name)
        task = self._task_definition(service)
        if task is None:
            self.unpriced.append(f"{service.type} '{service.name}' (its task definition is not among the resources)")
            return
        vcpu, gb = _cpu_vcpu(task.inputs.get("cpu")), _memory_gb(task.inputs.get("memory"))
        if vcpu is None or gb is None:
            self.unpriced.append(f"{service.type} '{service.name}' (task cpu/memory unknown)")
            return
        arch = get_path(task.inputs, "runtimePlatform", "cpuArchitecture") or "X86_64"
        tasks, how = self._average_tasks(service)
        on_demand, spot = split_tasks(tasks, self._strategy(service))
        driver = f"Fargate tasks ({label})"
        if arch == "ARM64":
            vcpu_rate, gb_rate = prices.usd("fargate_arm_vcpu_hour"), prices.usd("fargate_arm_gb_hour")
            if spot:
                # AWS: "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity
                # provider". Those tasks cannot be placed on Spot; priced as on-demand, flagged.
                self.notes.append(f"{label}: ARM64 tasks cannot run on FARGATE_SPOT; its Spot share "
                                  f"({spot:.2f} tasks) is priced on-demand")
                on_demand, spot = on_demand + spot, 0.0
            spot_rates = (0.0, 0.0)
        else:
            vcpu_rate, gb_rate = prices.usd("fargate_x86_vcpu_hour"), prices.usd("fargate_x86_gb_hour")
            spot_rates = (prices.usd("fargate_spot_x86_vcpu_hour"), prices.usd("fargate_spot_x86_gb_hour"))
        size = f"{vcpu:g} vCPU/{gb:g} GB {arch}"
        per_task = (vcpu * vcpu_rate + gb * gb_rate) * self.hours
        self.add(service, driver, on_demand * per_task,
                 f"{on_demand:.2f} on-demand of {how}, {size} x {self.hours:g} h")
        per_spot_task = (vcpu * spot_rates[0] + gb * spot_rates[1]) * self.hours
        self.add(service, driver, spot * per_spot_task, f"{spot:.2f} Spot of {how}, {size} x {self.hours:g} h")
        if get_path(service.inputs, "networkConfiguration", "assignPublicIp") is True:
            self.add(service, driver, tasks * prices.usd("public_ipv4_hour") * self.hours,
                     f"{tasks:.2f} task public IPv4 x {self.hours:g} h")
        tls = [entry for entry in as_list(get_path(service.inputs, "serviceConnectConfiguration", "services"))
               if isinstance(entry, Mapping) and entry.get("tls")]
        if tls and get_path(service.inputs, "serviceConnectConfiguration", "enabled") is not False:
            certificates = self.usage.tls_certificates_per_service * len(tls)
            self.add(service, "Service Connect TLS", certificates * prices.usd("private_ca_short_lived_certificate"),
                     f"{certificates:.2f} short-lived certificates")
            # ECS keeps each TLS private key in a Secrets Manager secret it creates (ecs-sc!...).
            self.add(service, "Service Connect TLS", len(tls) * prices.usd("secrets_manager_secret_month"),
                     f"{len(tls)} ecs-sc! key secret(s)")
        if self._insights_enabled(service):
            metrics = self.usage.container_insights_metrics_per_service
            self.add(service, "Container Insights", metrics * prices.usd("cloudwatch_custom_metric_month"),
                     f"{metrics} service metrics")
            log_gb = self.usage.container_insights_log_gb_per_service
            self.add(service, "Container Insights", log_gb * prices.usd("cloudwatch_logs_ingest_gb"),
                     f"{log_gb:g} GB performance events")

    def _insights_enabled(self, service: CostResource) -> bool:
        clusters = self.ctx.by_type.get("aws:ecs/cluster:Cluster", [])
        name = _arn_tail(service.inputs.get("cluster"))
        matching = [c for c in clusters if c.inputs.get("name") == name] or (clusters if len(clusters) == 1 else [])
        return bool(matching) and self._cluster_insights(matching[0]) is not None

    @staticmethod
    def _cluster_insights(cluster: CostResource) -> str | None:
        """The cluster's Container Insights mode when on ("enabled" or "enhanced")."""
        return next((s.get("value") for s in as_list(cluster.inputs.get("settings"))
                     if isinstance(s, Mapping) and s.get("name") == "containerInsights"
                     and s.get("value") in ("enabled", "enhanced")), None)

    def _cluster(self, cluster: CostResource, prices: RegionPrices) -> None:
        mode = self._cluster_insights(cluster)
        if mode == "enhanced":
            # Enhanced observability adds task- and container-level metrics billed per observation;
            # only the standard metrics are priced, so this part of the estimate is a lower bound.
            self.notes.append(f"{cluster.name}: Container Insights 'enhanced' is priced as its standard metrics "
                              "(a lower bound)")
        if mode:
            metrics = self.usage.container_insights_metrics_per_cluster
            self.add(cluster, "Container Insights", metrics * prices.usd("cloudwatch_custom_metric_month"),
                     f"{metrics} cluster metrics")

    # -- network ----------------------------------------------------------------------------------

    def _nat_gateway(self, nat: CostResource, prices: RegionPrices) -> None:
        share = self.usage.nat_gb_per_month / max(self.nat_count, 1)
        self.add(nat, "NAT gateways", prices.usd("nat_gateway_hour") * self.hours, f"{self.hours:g} h")
        self.add(nat, "NAT gateways", share * prices.usd("nat_gateway_gb"), f"{share:g} GB processed")

    def _eip(self, eip: CostResource, prices: RegionPrices) -> None:
        self.add(eip, "public IPv4 addresses", prices.usd("public_ipv4_hour") * self.hours, f"1 IP x {self.hours:g} h")

    def _vpc_endpoint(self, endpoint: CostResource, prices: RegionPrices) -> None:
        if endpoint.inputs.get("vpcEndpointType", "Gateway") != "Interface":
            return
        subnets = endpoint.inputs.get("subnetIds")
        azs = len(subnets) if isinstance(subnets, list) and subnets else 1
        self.add(endpoint, "interface endpoints", azs * prices.usd("interface_endpoint_az_hour") * self.hours,
                 f"{azs} AZ x {self.hours:g} h")
        gb = self.usage.interface_endpoint_gb_per_month
        self.add(endpoint, "interface endpoints", gb * prices.usd("interface_endpoint_gb"), f"{gb:g} GB")

    def _load_balancer(self, lb: CostResource, prices: RegionPrices) -> None:
        if lb.inputs.get("loadBalancerType", "application") != "application":
            self.unpriced.append(f"{lb.type} '{lb.name}' (only application load balancers are priced)")
            return
        lcu = self.usage.alb_lcu
        self.add(lb, "load balancer", prices.usd("alb_hour") * self.hours, f"{self.hours:g} h")
        self.add(lb, "load balancer", lcu * prices.usd("alb_lcu_hour") * self.hours, f"{lcu:g} LCU x {self.hours:g} h")
        if lb.inputs.get("internal") is not True:
            subnets = lb.inputs.get("subnets") or lb.inputs.get("subnetMappings")
            ips = len(subnets) if isinstance(subnets, list) and subnets else 2
            self.add(lb, "public IPv4 addresses", ips * prices.usd("public_ipv4_hour") * self.hours,
                     f"{ips} IPs (one per AZ) x {self.hours:g} h")

    # -- certificates, DNS ------------------------------------------------------------------------

    def _private_ca(self, ca: CostResource, prices: RegionPrices) -> None:
        short = ca.inputs.get("usageMode") == "SHORT_LIVED_CERTIFICATE"
        name = "private_ca_short_lived_month" if short else "private_ca_general_purpose_month"
        self.add(ca, "Private CA", prices.usd(name), "short-lived mode" if short else "general-purpose mode")

    def _hosted_zone(self, zone: CostResource, prices: RegionPrices) -> None:
        self.add(zone, "Route 53", prices.usd("route53_hosted_zone_month"), "1 hosted zone")

    def _health_check(self, check: CostResource, prices: RegionPrices) -> None:
        fqdn = check.inputs.get("fqdn")
        # An fqdn unknown during preview is computed from a resource of this program (an AWS endpoint).
        aws = check.inputs.get("type") in ("CALCULATED", "CLOUDWATCH_METRIC") or is_unknown(fqdn) \
            or str(fqdn or "").endswith(".amazonaws.com")
        kind = check.inputs.get("type", "")
        options = [name for name, on in (
            ("HTTPS", str(kind).startswith("HTTPS")), ("string matching", str(kind).endswith("STR_MATCH")),
            ("fast interval", _number(check.inputs.get("requestInterval")) == 10),
            ("latency measurement", check.inputs.get("measureLatency") is True)) if on]
        base = prices.usd("route53_health_check_aws_month" if aws else "route53_health_check_non_aws_month")
        option = prices.usd("route53_health_check_option_aws_month" if aws
                            else "route53_health_check_option_non_aws_month")
        self.add(check, "Route 53", base + len(options) * option,
                 f"{'AWS' if aws else 'non-AWS'} endpoint + {', '.join(options) or 'no options'}")

    # -- observability ------------------------------------------------------------------------------

    def _log_group(self, group: CostResource, prices: RegionPrices) -> None:
        in_service = self.ctx.service_component(group) is not None
        gb = self.usage.log_gb_per_service if in_service else self.usage.log_gb_per_other_log_group
        retention = _number(group.inputs.get("retentionInDays")) or 0
        # Steady state: a month's ingest is kept for `retention` days; "never expire" counts a year.
        months = min(retention / 30.4, 12) if retention > 0 else 12
        driver = f"logs ({self.ctx.service(group)})" if in_service else "logs"
        self.add(group, driver, gb * prices.usd("cloudwatch_logs_ingest_gb"), f"{gb:g} GB ingested")
        self.add(group, driver, gb * months * prices.usd("cloudwatch_logs_storage_gb_month"),
                 f"{gb:g} GB x {months:.1f} months kept")

    def _metric_filter(self, metric_filter: CostResource, prices: RegionPrices) -> None:
        self.add(metric_filter, "alarms and metrics", prices.usd("cloudwatch_custom_metric_month"), "1 custom metric")

    def _metric_alarm(self, alarm: CostResource, prices: RegionPrices) -> None:
        queries = [q for q in as_list(alarm.inputs.get("metricQueries")) if isinstance(q, Mapping)]
        metrics = sum(1 for q in queries if q.get("metric")) if queries else 1
        periods = [_number(alarm.inputs.get("period"))] + [_number(get_path(q, "metric", "period")) for q in queries]
        high_res = any(p is not None and p < 60 for p in periods)
        rate = prices.usd("cloudwatch_alarm_high_res_metric_month" if high_res
                          else "cloudwatch_alarm_standard_metric_month")
        self.add(alarm, "alarms and metrics", metrics * rate,
                 f"{metrics} {'high-resolution' if high_res else 'standard'} alarm metric(s)")

    def _composite_alarm(self, alarm: CostResource, prices: RegionPrices) -> None:
        self.add(alarm, "alarms and metrics", prices.usd("cloudwatch_composite_alarm_month"), "1 composite alarm")

    def _dashboard(self, dashboard: CostResource, prices: RegionPrices) -> None:
        self.add(dashboard, "dashboards", prices.usd("cloudwatch_dashboard_month"), "1 dashboard")

    # -- secrets, keys, registries, storage ---------------------------------------------------------

    def _secret(self, secret: CostResource, prices: RegionPrices) -> None:
        copies = 1 + len([r for r in as_list(secret.inputs.get("replicas")) if isinstance(r, Mapping)])
        calls = self.usage.secret_api_calls_per_secret
        self.add(secret, "secrets", copies * prices.usd("secrets_manager_secret_month"),
                 f"{copies} secret(s) incl. replicas")
        self.add(secret, "secrets", calls / 10_000 * prices.usd("secrets_manager_api10k"), f"{calls:g} API calls")

    def _kms_key(self, key: CostResource, prices: RegionPrices) -> None:
        requests = self.usage.kms_requests_per_key
        self.add(key, "KMS keys", prices.usd("kms_key_month"), "1 key")
        self.add(key, "KMS keys", requests / 10_000 * prices.usd("kms_requests10k"), f"{requests:g} requests")

    def _ecr_repository(self, repository: CostResource, prices: RegionPrices) -> None:
        gb = self.usage.ecr_gb_per_repository
        self.add(repository, "ECR storage", gb * prices.usd("ecr_storage_gb_month"), f"{gb:g} GB")

    def _ssm_parameter(self, parameter: CostResource, prices: RegionPrices) -> None:
        if parameter.inputs.get("tier") in ("Advanced", "Intelligent-Tiering"):
            self.add(parameter, "SSM parameters", prices.usd("ssm_advanced_parameter_month"), "1 advanced parameter")

    def _s3_bucket(self, bucket: CostResource, prices: RegionPrices) -> None:
        gb = self.usage.s3_gb_per_bucket
        self.add(bucket, "S3 storage", gb * prices.usd("s3_standard_gb_month"), f"{gb:g} GB")

    # -- data and events ----------------------------------------------------------------------------

    def _dynamodb_table(self, table: CostResource, prices: RegionPrices) -> None:
        if table.inputs.get("billingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            self.unpriced.append(f"{table.type} '{table.name}' (provisioned capacity is not priced)")
            return
        copies = 1 + len([r for r in as_list(table.inputs.get("replicas")) if isinstance(r, Mapping)])
        requests, share = self.usage.requests_per_month, self.usage.dynamodb_write_fraction
        writes, reads = requests * share * copies, requests * (1 - share)
        gb = self.usage.dynamodb_storage_gb * copies
        self.add(table, "DynamoDB", writes / 1e6 * prices.usd("dynamodb_write_million"),
                 f"{writes:g} writes ({copies} cop{'ies' if copies > 1 else 'y'})")
        self.add(table, "DynamoDB", reads / 1e6 * prices.usd("dynamodb_read_million"), f"{reads:g} reads")
        self.add(table, "DynamoDB", gb * prices.usd("dynamodb_storage_gb_month"), f"{gb:g} GB")
        if get_path(table.inputs, "pointInTimeRecovery", "enabled") is True:
            self.add(table, "DynamoDB", gb * prices.usd("dynamodb_pitr_gb_month"), f"{gb:g} GB PITR")

    def _aurora_cluster(self, cluster: CostResource, prices: RegionPrices) -> None:
        gb, io = self.usage.aurora_storage_gb, self.usage.aurora_io_millions
        self.add(cluster, "Aurora", gb * prices.usd("aurora_storage_gb_month"), f"{gb:g} GB")
        self.add(cluster, "Aurora", io * prices.usd("aurora_io_million"), f"{io:g} million I/O")

    def _aurora_instance(self, instance: CostResource, prices: RegionPrices) -> None:
        if instance.inputs.get("instanceClass") != "db.serverless":
            self.unpriced.append(f"{instance.type} '{instance.name}' (only db.serverless instances are priced)")
            return
        identifier = instance.inputs.get("clusterIdentifier")
        clusters = [c for c in self.ctx.by_type.get("aws:rds/cluster:Cluster", [])
                    if is_known_text(identifier) and c.inputs.get("clusterIdentifier") == identifier]
        clusters = clusters or self.ctx.siblings(instance, "aws:rds/cluster:Cluster")
        scaling = get_path(clusters[0].inputs, "serverlessv2ScalingConfiguration") if clusters else None
        low = _number(get_path(scaling, "minCapacity")) if isinstance(scaling, Mapping) else None
        high = _number(get_path(scaling, "maxCapacity")) if isinstance(scaling, Mapping) else None
        if low is None or high is None:
            self.unpriced.append(f"{instance.type} '{instance.name}' (its cluster's ACU range is unknown)")
            return
        acu = low + self.usage.average_acu_fraction * (high - low)
        self.add(instance, "Aurora", acu * prices.usd("aurora_serverless_v2_acu_hour") * self.hours,
                 f"{acu:g} ACU x {self.hours:g} h")

    def _sqs_queue(self, queue: CostResource, prices: RegionPrices) -> None:
        fifo = queue.inputs.get("fifoQueue") is True
        requests = self.usage.requests_per_month
        self.add(queue, "SQS", requests / 1e6 * prices.usd("sqs_fifo_million" if fifo else "sqs_standard_million"),
                 f"{requests:g} {'FIFO' if fifo else 'standard'} requests")

    def _event_bus(self, bus: CostResource, prices: RegionPrices) -> None:
        events = self.usage.requests_per_month
        self.add(bus, "EventBridge", events / 1e6 * prices.usd("event_bridge_events_million"), f"{events:g} events")

    def _event_archive(self, archive: CostResource, prices: RegionPrices) -> None:
        gb = self.usage.archive_gb_per_month
        retention = _number(archive.inputs.get("retentionDays")) or 0
        months = min(retention / 30.4, 12) if retention > 0 else 12
        self.add(archive, "EventBridge", gb * prices.usd("event_bridge_archive_gb"), f"{gb:g} GB archived")
        self.add(archive, "EventBridge", gb * months * prices.usd("event_bridge_archive_storage_gb_month"),
                 f"{gb:g} GB x {months:.1f} months kept")

    def _pipe(self, pipe: CostResource, prices: RegionPrices) -> None:
        requests = self.usage.requests_per_month
        self.add(pipe, "EventBridge", requests / 1e6 * prices.usd("event_bridge_pipes_million"),
                 f"{requests:g} pipe requests")

    def _trail(self, trail: CostResource, prices: RegionPrices) -> None:
        # The first trail's management events are free; whether this is the account's first copy
        # is not visible from one stack (see docs/cost-model.md), so only data events are priced.
        data = any(isinstance(s, Mapping) and s.get("dataResources")
                   for s in as_list(trail.inputs.get("eventSelectors"))) or bool(
            as_list(trail.inputs.get("advancedEventSelectors")))
        if data:
            events = self.usage.cloudtrail_data_events_per_month
            self.add(trail, "CloudTrail", events / 1e5 * prices.usd("cloud_trail_data100k"), f"{events:g} data events")

    def _sns_topic(self, topic: CostResource, prices: RegionPrices) -> None:
        publishes = self.usage.requests_per_month
        self.add(topic, "SNS", publishes / 1e6 * prices.usd("sns_publish_million"), f"{publishes:g} publishes")

    def _budget(self, budget: CostResource, prices: RegionPrices) -> None:
        self.add(budget, "budgets", prices.usd("budget_month"), "free without actions")

    def _lambda_function(self, function: CostResource, prices: RegionPrices) -> None:
        calls, seconds = self.usage.lambda_invocations_per_month, self.usage.lambda_seconds_per_invocation
        memory_gb = (function.inputs.get("memorySize") or 128) / 1024  # Lambda's default is 128 MB
        arm = "arm64" in as_list(function.inputs.get("architectures") or [])
        gb_second = prices.usd("lambda_arm_gb_second" if arm else "lambda_x86_gb_second")
        self.add(function, "Lambda", calls / 1e6 * prices.usd("lambda_request_million")
                 + calls * seconds * memory_gb * gb_second,
                 f"{calls:g} invocations x {seconds:g} s x {memory_gb:g} GB ({'arm64' if arm else 'x86_64'})")


def estimate(resources: Sequence[CostResource], prices: PriceBook, assumptions: UsageAssumptions | None = None, *,
             default_region: str | None = None,
             service_component_types: Iterable[str] = DEFAULT_SERVICE_COMPONENT_TYPES) -> Estimate:
    """The monthly estimate of ``resources`` at ``prices`` under ``assumptions`` (defaults if None).
    ``default_region`` prices resources whose region is unknown."""
    pricer = _Pricer(resources, prices, assumptions or UsageAssumptions(), default_region,
                     frozenset(service_component_types))
    pricer.run(resources)
    return Estimate(items=tuple(pricer.items), eur_to_usd=prices.currency.eur_to_usd,
                    unpriced=tuple(pricer.unpriced), notes=tuple(dict.fromkeys(pricer.notes)))
