"""Observability, secrets, keys, registries, storage, data, events, budgets and Lambda."""

from __future__ import annotations

from collections.abc import Mapping

from ..values import as_list, get_path, is_known_text
from .model import CostResource
from .prices import RegionPrices
from .pricing import PricerBase, number


class ManagedServicePricing(PricerBase):
    """Observability, secrets, keys, registries, storage, data, events, budgets and Lambda."""

    # -- observability ------------------------------------------------------------------------------

    def _log_group(self, group: CostResource, prices: RegionPrices) -> None:
        in_service = self.ctx.service_component(group) is not None
        gb = self.usage.log_gb_per_service if in_service else self.usage.log_gb_per_other_log_group
        retention = number(group.inputs.get("retentionInDays")) or 0
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
        periods = [number(alarm.inputs.get("period"))] + [number(get_path(q, "metric", "period")) for q in queries]
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
        low = number(get_path(scaling, "minCapacity")) if isinstance(scaling, Mapping) else None
        high = number(get_path(scaling, "maxCapacity")) if isinstance(scaling, Mapping) else None
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
        retention = number(archive.inputs.get("retentionDays")) or 0
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
