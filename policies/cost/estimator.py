"""Monthly cost of a stack from the resources it registers (not from its config).

Pure: resources in, :class:`Estimate` out. The same function serves the preview (records of the
mock run) and the budget-guard policy (the resources of an AnalyzeStack request), so the policy
recomputes the figure from what the engine sees and never trusts one the program reports.

Each priced resource yields line items (USD per month) with the arithmetic spelled out in
``basis``; a resource whose type costs money but that the estimator cannot price is listed in
``Estimate.gaps`` instead of silently counting as zero. docs/cost-model.md has the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .assumptions import UsageAssumptions
from .compute import ComputePricing
from .free_types import FREE_TYPES
from .managed import ManagedServicePricing
from .model import STACK_TYPE, CostResource, Estimate, Gap, LineItem, resources_from_records
from .network import NetworkPricing
from .prices import PriceBook, RegionPrices
from .pricing import split_tasks

__all__ = [
    "DEFAULT_SERVICE_COMPONENT_TYPES",
    "FREE_TYPES",
    "STACK_TYPE",
    "CostResource",
    "Estimate",
    "Gap",
    "LineItem",
    "estimate",
    "resources_from_records",
    "split_tasks",
]

DEFAULT_SERVICE_COMPONENT_TYPES = frozenset({"microservices:platform:MeshService"})

class _Pricer(ComputePricing, NetworkPricing, ManagedServicePricing):
    """Prices one stack's resources; one method per priced type (``_<service>_<kind>``)."""

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
            "aws:arcregionswitch/plan:Plan": self._region_switch_plan,
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
            "aws:appautoscaling/policy:Policy": self._scaling_policy,
            "aws:rds/globalCluster:GlobalCluster": self._global_cluster,
            "aws:xray/samplingRule:SamplingRule": self._sampling_rule,
            "aws:cloudwatch/eventTarget:EventTarget": self._event_target,
            "aws:ec2/instance:Instance": self._ec2_instance,
            "aws:rds/instance:Instance": self._rds_instance,
        }
        for resource in resources:
            pricer = pricers.get(resource.type)
            if pricer is None:
                # Fail closed: a provider resource is priced or declared free; components and the engine's
                # own types (stack, providers, stack references) cost nothing by themselves.
                if resource.custom and not resource.type.startswith("pulumi:") and resource.type not in FREE_TYPES:
                    self.gap(resource, "no price model for this type")
                continue
            prices = self.region_prices(resource)
            if prices is None:
                self.gap(resource, f"no prices for region {resource.region or self.default_region or 'unknown'}")
                continue
            pricer(resource, prices)


def estimate(resources: Sequence[CostResource], prices: PriceBook, assumptions: UsageAssumptions | None = None, *,
             default_region: str | None = None,
             service_component_types: Iterable[str] = DEFAULT_SERVICE_COMPONENT_TYPES) -> Estimate:
    """The monthly estimate of ``resources`` at ``prices`` under ``assumptions`` (defaults if None).
    ``default_region`` prices resources whose region is unknown."""
    pricer = _Pricer(resources, prices, assumptions or UsageAssumptions(), default_region,
                     frozenset(service_component_types))
    pricer.run(resources)
    return Estimate(items=tuple(pricer.items), eur_to_usd=prices.currency.eur_to_usd,
                    gaps=tuple(pricer.gaps), notes=tuple(dict.fromkeys(pricer.notes)))
