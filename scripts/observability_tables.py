"""Print the figures docs/operating.md quotes: SLO defaults, each service alarm with its threshold and
window, the quota alarms, the X-Ray ratios, and the JSON log contract.

    python scripts/observability_tables.py

Everything comes from the modules the program uses, so the docs cannot drift from what is deployed.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components.observability.alarm_specs import describe_threshold
from components.observability.audit import AuditTrailArgs
from components.observability.logs import LOG_FIELDS, REQUEST_LINE_FIELDS, error_line_metric
from components.observability.quotas import quota_alarms
from components.observability.slo import AlbSource, ServiceAlarmInputs, SloTargets, service_alarms
from components.observability.tracing import PRIORITY
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS


def main() -> None:
    slo = SloTargets()
    print("### SLO defaults (SloTargets)\n\n| target | default |\n|---|---|")
    for item in fields(SloTargets):
        print(f"| `{item.name}` | {getattr(slo, item.name):g} |")
    for kind, alb in (("routed (ALB)", AlbSource("app/alb/1", ("targetgroup/a/1", "targetgroup/b/2"))),
                      ("internal (Service Connect)", None)):
        inputs = ServiceAlarmInputs("STACK", "SERVICE", "CLUSTER", slo, alb=alb,
                                    error_log_metric=error_line_metric("ENVIRONMENT", "SERVICE"))
        print(f"\n### Alarms of one {kind} service\n\n| alarm | fires when | missing data |\n|---|---|---|")
        for spec in service_alarms(inputs):
            print(f"| `{spec.name}` | {describe_threshold(spec)} | {spec.treat_missing_data} |")
    print("\n### Quota alarms\n\n| alarm | fires when |\n|---|---|")
    for spec in quota_alarms("STACK"):
        print(f"| `{spec.name}` | {describe_threshold(spec)} |")
    print(f"\nAudit log files are kept {AuditTrailArgs.__dataclass_fields__['retention_days'].default} days.")
    print("\n### Tracing and logs per environment\n\n| environment | sampled share | X-Ray rule priority | log level |"
          "\n|---|---|---|---|")
    for environment in ("staging", "prod"):
        defaults = ENVIRONMENT_DEFAULTS[environment]
        print(f"| {environment} | {defaults.trace_sampling_ratio:.0%} | {PRIORITY[environment]} | "
              f"{defaults.log_level} |")
    print("\n### JSON log fields\n\n| field | meaning |\n|---|---|")
    for name, meaning in {**LOG_FIELDS, **REQUEST_LINE_FIELDS}.items():
        optional = " (request lines only)" if name in REQUEST_LINE_FIELDS else ""
        print(f"| `{name}` | {meaning}{optional} |")


if __name__ == "__main__":
    main()
