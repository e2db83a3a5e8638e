"""Observability, secrets, keys, registries, storage, data, events, budgets and Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..values import as_list, get_path, is_known_text, is_unknown
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
        copies = 1 + len([r for r in as_list(table.inputs.get("replicas")) if isinstance(r, Mapping)])
        if table.inputs.get("billingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            self._provisioned_table(table, prices, copies)
            return
        requests, share = self.usage.requests_per_month, self.usage.dynamodb_write_fraction
        writes, reads = requests * share * copies, requests * (1 - share)
        gb = self.usage.dynamodb_storage_gb * copies
        self.add(table, "DynamoDB", writes / 1e6 * prices.usd("dynamodb_write_million"),
                 f"{writes:g} writes ({copies} cop{'ies' if copies > 1 else 'y'})")
        self.add(table, "DynamoDB", reads / 1e6 * prices.usd("dynamodb_read_million"), f"{reads:g} reads")
        self.add(table, "DynamoDB", gb * prices.usd("dynamodb_storage_gb_month"), f"{gb:g} GB")
        if get_path(table.inputs, "pointInTimeRecovery", "enabled") is True:
            self.add(table, "DynamoDB", gb * prices.usd("dynamodb_pitr_gb_month"), f"{gb:g} GB PITR")

    def _provisioned_table(self, table: CostResource, prices: RegionPrices, copies: int) -> None:
        """Provisioned capacity: the table's and each global secondary index's WCU and RCU every hour, in every
        replica (a replica's replicated writes are billed as its own WCUs)."""
        indexes = [i for i in as_list(table.inputs.get("globalSecondaryIndexes")) if isinstance(i, Mapping)]
        owners: list[Mapping[str, Any]] = [table.inputs, *indexes]
        wcu = [number(o.get("writeCapacity")) for o in owners]
        rcu = [number(o.get("readCapacity")) for o in owners]
        if any(v is None for v in wcu + rcu):
            self.gap(table, "provisioned table or index without known readCapacity/writeCapacity",
                     deferred=any(is_unknown(o.get(k)) for o in owners for k in ("readCapacity", "writeCapacity")))
            return
        writes, reads = sum(v or 0 for v in wcu) * copies, sum(v or 0 for v in rcu) * copies
        self.add(table, "DynamoDB", writes * prices.usd("dynamodb_wcu_hour") * self.hours,
                 f"{writes:g} WCU x {self.hours:g} h ({copies} cop{'ies' if copies > 1 else 'y'})")
        self.add(table, "DynamoDB", reads * prices.usd("dynamodb_rcu_hour") * self.hours,
                 f"{reads:g} RCU x {self.hours:g} h")
        gb = self.usage.dynamodb_storage_gb * copies
        self.add(table, "DynamoDB", gb * prices.usd("dynamodb_storage_gb_month"), f"{gb:g} GB")

    def _aurora_cluster(self, cluster: CostResource, prices: RegionPrices) -> None:
        gb, io = self.usage.aurora_storage_gb, self.usage.aurora_io_millions
        self.add(cluster, "Aurora", gb * prices.usd("aurora_storage_gb_month"), f"{gb:g} GB")
        self.add(cluster, "Aurora", io * prices.usd("aurora_io_million"), f"{io:g} million I/O")
        self._managed_master_secret(cluster, prices)
        if "globalClusterIdentifier" in cluster.inputs and cluster.inputs.get("masterUsername") is None \
                and not self.ctx.siblings(cluster, "aws:rds/clusterInstance:ClusterInstance"):
            # A headless secondary bills storage only; a rehearsal adds a reader at the cluster's minimum.
            scaling = get_path(cluster.inputs, "serverlessv2ScalingConfiguration")
            low = max(number(get_path(scaling, "minCapacity")) or 0.0, 0.5) if isinstance(scaling, Mapping) else 0.5
            hours = self.usage.database_rehearsal_hours_per_month
            self.add(cluster, "Aurora", low * prices.usd("aurora_serverless_v2_acu_hour") * hours,
                     f"{low:g} ACU x {hours:g} h, the reader a rehearsal adds to this headless secondary "
                     "(databaseRehearsalHoursPerMonth)")

    def _managed_master_secret(self, database: CostResource, prices: RegionPrices) -> None:
        # RDS keeps a managed master password in a Secrets Manager secret it creates and rotates.
        if database.inputs.get("manageMasterUserPassword") is True:
            self.add(database, "secrets", prices.usd("secrets_manager_secret_month"), "1 RDS-managed master secret")

    def _global_cluster(self, cluster: CostResource, prices: RegionPrices) -> None:
        # Replicated write I/O: billed in the primary Region for every write replicated to each secondary.
        io = self.usage.aurora_replicated_write_io_millions
        self.add(cluster, "Aurora", io * prices.usd("aurora_global_replicated_write_io_million"),
                 f"{io:g} million replicated write I/O per secondary")

    def _rds_instance(self, instance: CostResource, prices: RegionPrices) -> None:
        engine, klass = str(instance.inputs.get("engine") or ""), instance.inputs.get("instanceClass")
        rate = prices.rds_instance_hour.get(str(klass))
        if not engine.startswith(("postgres", "mysql", "mariadb")) or rate is None:
            self.gap(instance, f"no price for engine {engine or '(unset)'} on instance class {klass}",
                     deferred=is_unknown(klass) or is_unknown(instance.inputs.get("engine")))
            return
        copies = 2 if instance.inputs.get("multiAz") is True else 1
        gb = number(instance.inputs.get("allocatedStorage")) or 20
        self.add(instance, "RDS", copies * rate.usd * self.hours, f"{copies} x {klass} x {self.hours:g} h")
        self.add(instance, "RDS", copies * gb * prices.usd("rds_gp3_gb_month"), f"{copies} x {gb:g} GB gp3")
        self._managed_master_secret(instance, prices)

    def _ec2_instance(self, instance: CostResource, prices: RegionPrices) -> None:
        kind = instance.inputs.get("instanceType")
        rate = prices.ec2_instance_hour.get(str(kind))
        if rate is None:
            self.gap(instance, f"no price for instance type {kind}", deferred=is_unknown(kind))
            return
        gb = number(get_path(instance.inputs, "rootBlockDevice", "volumeSize")) or 8
        self.add(instance, "EC2", rate.usd * self.hours, f"{kind} x {self.hours:g} h")
        self.add(instance, "EC2", gb * prices.usd("ebs_gp3_gb_month"), f"{gb:g} GB root volume")

    def _scaling_policy(self, policy: CostResource, prices: RegionPrices) -> None:
        # Target tracking creates two CloudWatch alarms per policy (scale out, scale in) on its metrics.
        if policy.inputs.get("policyType") != "TargetTrackingScaling":
            return
        spec = get_path(policy.inputs, "targetTrackingScalingPolicyConfiguration", "customizedMetricSpecification")
        metrics = [m for m in as_list(get_path(spec, "metrics")) if isinstance(m, Mapping) and m.get("metricStat")] \
            if isinstance(spec, Mapping) else []
        count = 2 * max(len(metrics), 1)
        self.add(policy, "alarms and metrics", count * prices.usd("cloudwatch_alarm_standard_metric_month"),
                 f"2 target-tracking alarms x {max(len(metrics), 1)} metric(s)")

    def _sampling_rule(self, rule: CostResource, prices: RegionPrices) -> None:
        rate = number(rule.inputs.get("fixedRate"))
        if rate is None:
            self.gap(rule, "fixedRate unknown", deferred=is_unknown(rule.inputs.get("fixedRate")))
            return
        traces = self.usage.api_requests_per_month * min(max(rate, 0.0), 1.0)
        self.add(rule, "X-Ray traces", traces / 1e6 * prices.usd("xray_traces_recorded_million"),
                 f"{traces:g} traces ({rate:g} of {self.usage.api_requests_per_month:g} requests)")

    def _aurora_instance(self, instance: CostResource, prices: RegionPrices) -> None:
        if instance.inputs.get("instanceClass") != "db.serverless":
            self.gap(instance, "only db.serverless instances are priced")
            return
        identifier = instance.inputs.get("clusterIdentifier")
        clusters = self.ctx.with_input("aws:rds/cluster:Cluster", "clusterIdentifier", identifier) \
            if is_known_text(identifier) else []
        clusters = clusters or self.ctx.siblings(instance, "aws:rds/cluster:Cluster")
        scaling = get_path(clusters[0].inputs, "serverlessv2ScalingConfiguration") if clusters else None
        low = number(get_path(scaling, "minCapacity")) if isinstance(scaling, Mapping) else None
        high = number(get_path(scaling, "maxCapacity")) if isinstance(scaling, Mapping) else None
        if low is None or high is None:
            self.gap(instance, "its cluster's ACU range is unknown", deferred=True)
            return
        hours, why = self.hours, "never pauses (minimum above 0 ACU)"
        if low == 0:
            # Auto-pause (minimum 0 ACU) pauses only after a period without user connections; a service that
            # keeps a pool open holds it awake. Awake, an instance runs at 0.5 ACU or more.
            low = 0.5
            if self.usage.database_pooled_connections:
                why = "auto-pause never triggers: services hold a connection pool"
            else:
                hours, why = self.usage.database_awake_hours_per_month, "awake hours (databaseAwakeHoursPerMonth)"
        acu = low + self.usage.average_acu_fraction * max(high - low, 0.0)
        self.add(instance, "Aurora", acu * prices.usd("aurora_serverless_v2_acu_hour") * hours,
                 f"{acu:g} ACU x {hours:g} h, {why}")

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
