"""What a stack would cost with different settings: the levers table and the cost of one more service.

Each variant runs the real program under the mock runtime with some stack config keys changed and
prices what it registers with the same estimator the budget-guard policy uses, so a lever's figure
includes everything the change adds or removes (endpoints that follow the NAT strategy, a larger
task when tracing adds its sidecar, ...). :func:`lever_table` only needs a "run the program with these
overrides and give me the records" callable; :func:`variant_runner` is the real one, tests pass a fake.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from policies.cost.assumptions import UsageAssumptions
from policies.cost.estimator import Estimate, estimate, resources_from_records
from policies.cost.prices import PriceBook

# Stack config overrides as dotted paths below the project namespace, e.g. {"network.natStrategy": "single"}.
Overrides = Mapping[str, Any]
RunVariant = Callable[[Overrides], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class Lever:
    lever: str
    option: str
    overrides: Overrides


@dataclass(frozen=True)
class LeverRow:
    lever: str
    option: str
    total_eur: float | None
    delta_eur: float | None
    drivers: tuple[tuple[str, float], ...] = ()
    error: str | None = None


def apply_overrides(config: Mapping[str, Any], overrides: Overrides, project: str) -> dict[str, Any]:
    """The stack's wire config (``{"project:key": str}``, objects JSON-encoded) with ``overrides`` applied."""
    result = dict(config)
    for path, value in overrides.items():
        top, *rest = path.split(".")
        key = f"{project}:{top}"
        if not rest:
            result[key] = value if isinstance(value, str) else json.dumps(value)
            continue
        tree = copy.deepcopy(json.loads(result[key])) if key in result else {}
        node = tree
        for step in rest[:-1]:
            node = node.setdefault(step, {})
        node[rest[-1]] = value
        result[key] = json.dumps(tree)
    return result


def lever_table(run: RunVariant, levers: Sequence[Lever], prices: PriceBook,
                assumptions: UsageAssumptions | None = None, region: str | None = None,
                ) -> tuple[Estimate, list[LeverRow]]:
    """The baseline estimate and one row per lever option (total and change against the baseline).
    A variant the program refuses (a config rule, e.g. prod without TLS) becomes a row with ``error``."""

    def priced(records: Sequence[Mapping[str, Any]]) -> Estimate:
        return estimate(resources_from_records(records), prices, assumptions, default_region=region)

    base = priced(run({}))
    rows = []
    for lever in levers:
        try:
            result = priced(run(lever.overrides))
        except Exception as error:
            rows.append(LeverRow(lever.lever, lever.option, None, None, error=_root_message(error)))
            continue
        rows.append(LeverRow(lever.lever, lever.option, result.total_eur, result.total_eur - base.total_eur,
                             tuple(result.top_drivers(3))))
    return base, rows


def one_more_service(run: RunVariant, enabled: Sequence[str], extra: str, prices: PriceBook,
                     assumptions: UsageAssumptions | None = None, region: str | None = None,
                     extra_overrides: Mapping[str, Any] | None = None) -> float:
    """EUR per month that enabling catalog service ``extra`` adds to the stack; ``extra_overrides``
    are its per-stack overrides (image, architecture, task counts) as the stack would set them."""
    overrides: dict[str, Any] = {"services.enabled": [*enabled, extra]}
    overrides.update({f"services.overrides.{extra}.{key}": value for key, value in (extra_overrides or {}).items()})
    _base, rows = lever_table(run, [Lever("service", extra, overrides)], prices, assumptions, region)
    if rows[0].error:
        raise ValueError(f"enabling {extra} fails: {rows[0].error}")
    return rows[0].delta_eur or 0.0


def standard_levers(services: Sequence[str], az_count: int) -> list[Lever]:
    """The levers the README's table shows: NAT strategy, endpoint AZs, Spot share, on-demand base, CPU
    architecture, Service Connect TLS and tracing. Endpoint AZs beyond the stack's AZ count raise ``azCount`` too."""
    # Every stack has the seeds' interface endpoints (at least one AZ); without NAT it adds the endpoints
    # Service Connect and tracing need (components/regional_platform/endpoints.py).
    levers = [Lever("NAT gateways", option, {"network.natStrategy": option})
              for option in ("none", "single", "one-per-az")]
    for azs in (1, 2, 3):
        overrides: dict[str, Any] = {"network.endpointAzCount": azs}
        if azs > az_count:
            overrides["network.azCount"] = azs
        levers.append(Lever("endpoint AZs", str(azs), overrides))
    for label, on_demand, spot in (("0 %", 1, 0), ("50 %", 1, 1), ("75 %", 1, 3), ("100 %", 0, 1)):
        # FARGATE_SPOT runs Linux X86_64 and ARM64 tasks (ECS API reference), so the lever keeps each
        # service's architecture.
        levers.append(Lever("Spot share", label, {"capacity": {
            "onDemandBase": 0, "onDemandWeight": on_demand, "spotWeight": spot}}))
    # Tasks per service that Spot cannot take, under the stack's own weights (ECS allows one provider a base,
    # so an on-demand base replaces a Spot base).
    levers += [Lever("on-demand base (stack's weights)", str(base),
                     {"capacity.onDemandBase": base, **({"capacity.spotBase": 0} if base else {})})
               for base in (0, 1)]
    for arch in ("ARM64", "X86_64"):
        levers.append(Lever("architecture (stack's Spot weights)", arch,
                            {f"services.overrides.{s}.architecture": arch for s in services}))
    levers += [Lever("Service Connect TLS", "on" if on else "off", {"serviceConnect.tls": on}) for on in (True, False)]
    levers += [Lever("tracing", "on" if on else "off", {"tracing.enabled": on}) for on in (True, False)]
    return levers


def standby_levers(services: Sequence[str]) -> list[Lever]:
    """A standby's resting tasks per service: a pilot light (0, outside prod) or a warm standby (1)."""
    return [Lever("standby tasks per service", str(count),
                  {"failover.standbyMinTasks": dict.fromkeys(services, count)}) for count in (0, 1)]


def _root_message(error: BaseException) -> str:
    seen = set()
    cause = error.__cause__ or error.__context__
    while cause is not None and id(error) not in seen:
        seen.add(id(error))
        error, cause = cause, cause.__cause__ or cause.__context__
    return " ".join(line.strip() for line in str(error).splitlines()[:3])[:240]


def variant_runner(stack: str) -> RunVariant:
    """Run ``stack``'s real program offline with config overrides; returns the preview records.
    A standby's reference to its primary resolves to the primary's unmodified offline outputs."""
    from devkit.mocks import run_program
    from devkit.run import _region_of, preview_stack
    from foundation.settings import (
        PROJECT_DIR,
        load_catalog,
        read_project_defaults,
        read_stack_file,
        settings_from_config,
    )

    stack_file = read_stack_file(stack, PROJECT_DIR)
    project = read_project_defaults(PROJECT_DIR)[0]
    region = _region_of(stack_file.config, stack)

    @lru_cache(maxsize=1)
    def primary_outputs(primary_stack: str) -> dict:
        return preview_stack(primary_stack).outputs

    def run(overrides: Overrides) -> list[dict[str, Any]]:
        config = apply_overrides(stack_file.config, overrides, project)
        settings = settings_from_config(stack, config, load_catalog(), stack_file.secret_keys, project)
        remote_outputs = {}
        if settings.role == "standby":
            outputs = primary_outputs(settings.primary_stack_name)
            remote_outputs["pulumi:pulumi:StackReference"] = lambda inputs: {
                "name": inputs.get("name"), "outputs": outputs, "secretOutputNames": []}

        def program():
            from foundation.settings import load_from_pulumi
            from foundation.stack import build

            return build(load_from_pulumi())

        recorder, _ = run_program(program, project=project, stack=stack, region=region, config=config,
                                  secret_keys=list(stack_file.secret_keys), remote_outputs=remote_outputs)
        return recorder.to_json()

    return run


def render_levers_markdown(stack: str, base: Estimate, rows: Sequence[LeverRow]) -> str:
    lines = [f"Stack `{stack}` as configured: **€{base.total_eur:.2f}** per month.", "",
             "| Lever | Option | €/month | Change | Biggest drivers |", "|---|---|---:|---:|---|"]
    for row in rows:
        if row.error:
            lines.append(f"| {row.lever} | {row.option} | — | — | refused: {row.error} |")
            continue
        drivers = ", ".join(f"{name} €{eur:.0f}" for name, eur in row.drivers)
        lines.append(f"| {row.lever} | {row.option} | {row.total_eur:.2f} | {row.delta_eur:+.2f} | {drivers} |")
    return "\n".join(lines)
