"""Print the figures docs/events.md and docs/runbooks/database-failover.md quote, from the code that sets them.

    python scripts/data_events_facts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.data.database import (
    AUTO_PAUSE_MINIMUM,
    ENGINE_VERSION,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    ServiceDatabaseArgs,
)
from components.data.spec import MAX_GLOBAL_INDEXES, MAX_RECEIVES_DEFAULT
from components.events import alarms, documents
from components.events.bus import DLQ_RETENTION_SECONDS, QUEUE_RETENTION_SECONDS, EventSubscriptionArgs
from components.events.scaling import MAX_METRIC_QUERIES, BacklogScaling
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS


def main() -> None:
    retry = documents.RetryPolicy()
    print("Events")
    for environment, defaults in ENVIRONMENT_DEFAULTS.items():
        print(f"  {environment}: archive retention {defaults.event_archive_retention_days} days, "
              f"data replicated to the standby by default (failover.replicateData): {defaults.replicate_data}")
    print(f"  queue retention {QUEUE_RETENTION_SECONDS // 86400} days, "
          f"DLQ retention {DLQ_RETENTION_SECONDS // 86400} days")
    print(f"  maxReceives default {MAX_RECEIVES_DEFAULT}; rule target retries {retry.maximum_retry_attempts} times "
          f"for at most {retry.maximum_event_age_seconds} s")
    visibility = EventSubscriptionArgs.__dataclass_fields__["visibility_timeout_seconds"].default
    print(f"  queue visibility timeout default {visibility} s")
    print(f"  backlog scaling target {BacklogScaling.__dataclass_fields__['backlog_per_task'].default:g} visible "
          f"messages per task; at most {MAX_METRIC_QUERIES - 1} queues per consumer")
    print(f"  at most {MAX_GLOBAL_INDEXES} global secondary indexes per table (catalog limit)")
    stream = documents.outbox_source_parameters(
        ["X"], "arn:aws:sqs:eu-central-1:123456789012:q")["DynamoDBStreamParameters"]
    print(f"  outbox pipe: {stream['MaximumRetryAttempts']} retries, records at most "
          f"{stream['MaximumRecordAgeInSeconds']} s old, batches of {stream['BatchSize']}")
    print("Alarms")
    for spec in (alarms.queue_alarms("queue", "queue-dlq") + alarms.table_alarms("table")
                 + alarms.database_alarms("cluster")):
        print(f"  {spec.metric_name} {spec.statistic} {spec.comparison} {spec.threshold:g}")
    print("Databases")
    print(f"  engine aurora-postgresql {ENGINE_VERSION}; auto-pause from "
          + ", ".join(f"{major}.{minor}" for major, minor in sorted(AUTO_PAUSE_MINIMUM.items(), reverse=True)))
    for environment, defaults in ENVIRONMENT_DEFAULTS.items():
        print(f"  {environment}: min {defaults.database_min_capacity:g} ACU, "
              f"backups {defaults.database_backup_retention_days} days, Performance Insights {defaults.database_performance_insights} "
              f"({PERFORMANCE_INSIGHTS_RETENTION_DAYS} days), deletion protection {defaults.deletion_protection}")
    print(f"  auto-pause after {ServiceDatabaseArgs.__dataclass_fields__['seconds_until_auto_pause'].default} s idle")


if __name__ == "__main__":
    main()
