"""Fargate tasks and ECS clusters (Container Insights)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..values import as_list, get_path, is_known_text
from .model import CostResource
from .prices import RegionPrices
from .pricing import PricerBase, arn_tail, cpu_vcpu, memory_gb, number, split_tasks


class ComputePricing(PricerBase):
    """Fargate tasks and ECS clusters (Container Insights)."""

    # -- compute ----------------------------------------------------------------------------------

    def _task_definition(self, service: CostResource) -> CostResource | None:
        family = arn_tail(service.inputs.get("taskDefinition"))
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
            low, high = number(targets[0].inputs.get("minCapacity")), number(targets[0].inputs.get("maxCapacity"))
            if low is not None and high is not None:
                fraction = self.usage.average_task_fraction
                return low + fraction * (high - low), f"{low:g}+{fraction:g}x({high:g}-{low:g}) tasks"
        desired = number(service.inputs.get("desiredCount"))
        return (desired if desired is not None else 1.0), "desiredCount tasks"

    def _strategy(self, service: CostResource) -> list[Mapping[str, Any]]:
        own = service.inputs.get("capacityProviderStrategies")
        if isinstance(own, list) and own:
            return own
        if service.inputs.get("launchType") in ("FARGATE", "EC2", "EXTERNAL"):
            return [{"capacityProvider": "FARGATE", "base": 0, "weight": 1}]
        cluster_name = arn_tail(service.inputs.get("cluster"))
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
        vcpu, gb = cpu_vcpu(task.inputs.get("cpu")), memory_gb(task.inputs.get("memory"))
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
        name = arn_tail(service.inputs.get("cluster"))
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
