"""Fargate tasks (services and EventBridge targets) and ECS clusters (Container Insights)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..values import as_list, get_path, is_known_text, is_unknown
from .model import CostResource
from .prices import RegionPrices
from .pricing import PricerBase, arn_tail, cpu_vcpu, memory_gb, number, split_tasks

_RATE = re.compile(r"^rate\((\d+)\s+(minutes?|hours?|days?)\)$")
_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
_SCALING_TARGET = "aws:appautoscaling/target:Target"


class ComputePricing(PricerBase):
    """Fargate tasks (services and EventBridge targets) and ECS clusters (Container Insights)."""

    # -- compute ----------------------------------------------------------------------------------

    def _task_definition(self, service: CostResource) -> CostResource | None:
        family = arn_tail(service.inputs.get("taskDefinition"))
        family = family.split(":", 1)[0] if family else None
        named = self.ctx.with_input("aws:ecs/taskDefinition:TaskDefinition", "family", family) if family else []
        if named:
            return named[0]
        siblings = self.ctx.siblings(service, "aws:ecs/taskDefinition:TaskDefinition")
        return siblings[0] if len(siblings) == 1 else None

    def _average_tasks(self, service: CostResource) -> tuple[float, str]:
        name, cluster = service.inputs.get("name"), arn_tail(service.inputs.get("cluster"))
        # resourceId is service/<cluster>/<service>: the same service name in two clusters is two services.
        targets = [t for t in self.ctx.with_input(_SCALING_TARGET, "resourceId", f"service/{cluster}/{name}")
                   if t.inputs.get("serviceNamespace") == "ecs"] if is_known_text(name) and cluster else []
        if not targets and is_known_text(name) and not cluster:
            ecs_targets = [t for t in self.ctx.by_type.get(_SCALING_TARGET, [])
                           if t.inputs.get("serviceNamespace") == "ecs" and is_known_text(t.inputs.get("resourceId"))]
            by_name = [t for t in ecs_targets if str(t.inputs.get("resourceId")).endswith(f"/{name}")]
            targets = by_name if len(by_name) == 1 else []
        targets = targets or self.ctx.siblings(service, _SCALING_TARGET)
        desired = number(service.inputs.get("desiredCount"))
        if targets:
            low, high = number(targets[0].inputs.get("minCapacity")), number(targets[0].inputs.get("maxCapacity"))
            if low is not None and high is not None:
                fraction = self.usage.average_task_fraction
                return low + fraction * (high - low), f"{low:g}+{fraction:g}x({high:g}-{low:g}) tasks"
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

    def task_rates(self, task: CostResource, prices: RegionPrices, label: str,
                   spot: float) -> tuple[float, float, float, str] | None:
        """(USD per on-demand task-hour, USD per Spot task-hour, Spot tasks that can run on Spot, size text) of
        ``task``; None (with a gap) when its size is unknown."""
        vcpu, gb = cpu_vcpu(task.inputs.get("cpu")), memory_gb(task.inputs.get("memory"))
        if vcpu is None or gb is None:
            return None
        arch = get_path(task.inputs, "runtimePlatform", "cpuArchitecture") or "X86_64"
        family = str(get_path(task.inputs, "runtimePlatform", "operatingSystemFamily") or "LINUX")
        extra_gib = max((number(get_path(task.inputs, "ephemeralStorage", "sizeInGib")) or 20) - 20, 0)
        storage = extra_gib * prices.usd("fargate_ephemeral_storage_gb_hour")
        size = f"{vcpu:g} vCPU/{gb:g} GB {arch}" + (f" {family}" if family != "LINUX" else "") + (
            f" +{extra_gib:g} GiB storage" if extra_gib else "")
        if family.startswith("WINDOWS"):
            # Fargate Windows: its own rates plus the OS license per vCPU; FARGATE_SPOT runs no Windows tasks.
            rate = vcpu * (prices.usd("fargate_windows_vcpu_hour") + prices.usd("fargate_windows_license_vcpu_hour")) \
                + gb * prices.usd("fargate_windows_gb_hour") + storage
            if spot:
                self.notes.append(f"{label}: Windows tasks cannot run on FARGATE_SPOT; its Spot share "
                                  f"({spot:.2f} tasks) is priced on-demand")
            return rate, rate, 0.0, size
        kind = "arm" if arch == "ARM64" else "x86"
        # FARGATE_SPOT runs Linux X86_64 (platform 1.3.0+) and ARM64 (1.4.0+) tasks (ECS API reference).
        on_demand = vcpu * prices.usd(f"fargate_{kind}_vcpu_hour") + gb * prices.usd(f"fargate_{kind}_gb_hour")
        spot_rate = vcpu * prices.usd(f"fargate_spot_{kind}_vcpu_hour") + gb * prices.usd(f"fargate_spot_{kind}_gb_hour")
        return on_demand + storage, spot_rate + storage, spot, size

    def _ecs_service(self, service: CostResource, prices: RegionPrices) -> None:
        label = self.ctx.service(service) or str(service.inputs.get("name") or service.name)
        task = self._task_definition(service)
        if task is None:
            self.gap(service, "its task definition is not among the resources")
            return
        tasks, how = self._average_tasks(service)
        on_demand, spot = split_tasks(tasks, self._strategy(service))
        rates = self.task_rates(task, prices, label, spot)
        if rates is None:
            self.gap(service, "task cpu/memory unknown", deferred=True)
            return
        per_task_hour, per_spot_task_hour, spot_tasks, size = rates
        on_demand += spot - spot_tasks
        driver = f"Fargate tasks ({label})"
        self.add(service, driver, on_demand * per_task_hour * self.hours,
                 f"{on_demand:.2f} on-demand of {how}, {size} x {self.hours:g} h")
        self.add(service, driver, spot_tasks * per_spot_task_hour * self.hours,
                 f"{spot_tasks:.2f} Spot of {how}, {size} x {self.hours:g} h")
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

    def _event_target(self, target: CostResource, prices: RegionPrices) -> None:
        """An EventBridge target that runs ECS tasks: task count x runs x minutes per run at Fargate rates."""
        ecs = target.inputs.get("ecsTarget")
        if not isinstance(ecs, Mapping):
            return  # other targets (queues, buses, functions) bill at the target, priced there
        family = arn_tail(ecs.get("taskDefinitionArn"))
        family = family.split(":", 1)[0] if family else None
        tasks_defs = self.ctx.with_input("aws:ecs/taskDefinition:TaskDefinition", "family", family) if family else []
        count = number(ecs.get("taskCount")) or 1.0
        strategy = ecs.get("capacityProviderStrategies")
        on_demand, spot = split_tasks(count, strategy if isinstance(strategy, list) and strategy
                                      else [{"capacityProvider": "FARGATE", "weight": 1}])
        rates = self.task_rates(tasks_defs[0], prices, target.name, spot) if tasks_defs else None
        if rates is None:
            self.gap(target, "the task definition or size of the ECS tasks it runs is unknown",
                     deferred=is_unknown(ecs.get("taskDefinitionArn")))
            return
        per_task_hour, per_spot_task_hour, spot_tasks, size = rates
        on_demand += spot - spot_tasks
        runs, how = self._runs_per_month(target)
        hours = runs * self.usage.ecs_target_minutes_per_run / 60
        self.add(target, "scheduled tasks", (on_demand * per_task_hour + spot_tasks * per_spot_task_hour) * hours,
                 f"{count:g} task(s) {size} x {how} x {self.usage.ecs_target_minutes_per_run:g} min")

    def _runs_per_month(self, target: CostResource) -> tuple[float, str]:
        rule = target.inputs.get("rule")
        rules = self.ctx.with_input("aws:cloudwatch/eventRule:EventRule", "name", rule) if is_known_text(rule) else []
        rules = rules or self.ctx.siblings(target, "aws:cloudwatch/eventRule:EventRule")
        schedule = str(rules[0].inputs.get("scheduleExpression") or "") if rules else ""
        match = _RATE.match(schedule)
        if match:
            every, unit = float(match.group(1)), match.group(2).rstrip("s")
            runs = self.hours * 60 / (every * _MINUTES[unit])
            return runs, f"{runs:g} runs ({schedule})"
        runs = self.usage.ecs_target_runs_per_month
        return runs, f"{runs:g} runs (event or cron rule: ecsTargetRunsPerMonth)"

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
