"""Per-environment defaults: the one table. A stack overrides what its config allows; everything else that
differs between staging and prod is read from here (components take explicit values, never branch on the
environment name)."""

from __future__ import annotations

from dataclasses import dataclass

from components.core.types import ContainerInsights, LogLevel


@dataclass(frozen=True)
class CapacityDefaults:
    on_demand_base: int
    on_demand_weight: int
    spot_weight: int


@dataclass(frozen=True)
class EnvironmentDefaults:
    # Staging leans on Spot (about 70 % cheaper) and accepts interruptions; prod keeps an on-demand base
    # per service so that a Spot reclaim never takes the last task.
    capacity: CapacityDefaults
    log_retention_days: int
    trace_sampling_ratio: float
    # Staging writes DEBUG lines to find problems before prod; prod writes INFO and up (log volume is cost).
    log_level: LogLevel
    container_insights: ContainerInsights
    deletion_protection: bool
    access_log_retention_days: int
    # Service Connect TLS may be switched off only where this is False.
    requires_service_connect_tls: bool
    # Data and events (docs/events.md, docs/runbooks/database-failover.md): by default prod replicates tables
    # (global tables) and databases (Aurora global database) to the standby and staging does not
    # (`failover.replicateData` overrides it per pair). A database that does not replicate scales to zero
    # (auto-pause), which a global database never does.
    replicate_data: bool
    database_min_capacity: float
    database_backup_retention_days: int
    database_performance_insights: bool
    event_archive_retention_days: int


ENVIRONMENT_DEFAULTS: dict[str, EnvironmentDefaults] = {
    "staging": EnvironmentDefaults(
        capacity=CapacityDefaults(on_demand_base=0, on_demand_weight=1, spot_weight=3),
        # Container Insights on everywhere (a seed requirement; the task alarms read its metrics); staging takes
        # the standard metrics, prod the enhanced ones.
        log_retention_days=30, trace_sampling_ratio=1.0, log_level="DEBUG", container_insights="enabled",
        deletion_protection=False, access_log_retention_days=30, requires_service_connect_tls=False,
        replicate_data=False, database_min_capacity=0, database_backup_retention_days=7,
        database_performance_insights=False, event_archive_retention_days=7),
    "prod": EnvironmentDefaults(
        capacity=CapacityDefaults(on_demand_base=2, on_demand_weight=1, spot_weight=1),
        log_retention_days=365, trace_sampling_ratio=0.1, log_level="INFO", container_insights="enhanced",
        deletion_protection=True, access_log_retention_days=90, requires_service_connect_tls=True,
        replicate_data=True, database_min_capacity=0.5, database_backup_retention_days=35,
        database_performance_insights=True, event_archive_retention_days=90),
}
