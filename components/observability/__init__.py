"""Operating the platform: alert routing, SLO alarms, dashboards, logs, tracing, failover, audit, quotas.

Each module owns one concern; pure builders (alarm specs, dashboard bodies, policy documents) are
plain functions that tests call directly, and the ComponentResources only turn them into resources.
The rationale and the sources live in docs/operating.md.
"""
