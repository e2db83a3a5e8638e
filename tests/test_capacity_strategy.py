"""Which capacity providers a service's tasks may run on (components/mesh_service/component.py), and the
cluster strategy's bases (components/regional_platform/args.py, the `capacity` settings)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.mesh_service.component import capacity_strategy
from components.regional_platform.args import CapacityStrategy
from foundation.settings.stack_config import Capacity
from policies.cost.pricing import split_tasks

CLUSTER = [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
           {"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 3}]


def test_an_interruptible_service_repeats_the_cluster_strategy_with_its_spot_share():
    strategy = capacity_strategy(True, CLUSTER)
    assert strategy == CLUSTER
    strategy[0]["base"] = 5
    assert CLUSTER[0]["base"] == 1, "each service gets its own copy of the cluster's items"


def test_a_service_that_is_not_interruptible_never_names_fargate_spot():
    assert capacity_strategy(False, CLUSTER) == [{"capacity_provider": "FARGATE", "base": 0, "weight": 1}]
    assert capacity_strategy(False, [{"capacity_provider": "FARGATE_SPOT", "base": 0, "weight": 1}]) == [
        {"capacity_provider": "FARGATE", "base": 0, "weight": 1}]


def test_a_spot_base_puts_the_resting_tasks_on_spot_and_the_weights_split_the_rest():
    strategy = CapacityStrategy(on_demand_base=0, on_demand_weight=3, spot_weight=1, spot_base=1).provider_strategy()
    assert strategy == [{"capacity_provider": "FARGATE", "base": 0, "weight": 3},
                        {"capacity_provider": "FARGATE_SPOT", "base": 1, "weight": 1}]
    wire = [{"capacityProvider": item["capacity_provider"], "base": item["base"], "weight": item["weight"]}
            for item in strategy]
    assert split_tasks(1, wire) == (0, 1)  # the warm standby at rest: Spot only
    assert split_tasks(5, wire) == (3, 2)  # raised by the plan: 1 Spot base, then 3:1 on-demand


def test_capacity_settings_refuse_two_bases_and_a_spot_base_without_spot_weight():
    with pytest.raises(ValidationError, match="onDemandBase and spotBase cannot both be above 0"):
        Capacity.model_validate({"onDemandBase": 1, "onDemandWeight": 1, "spotWeight": 1, "spotBase": 1})
    with pytest.raises(ValidationError, match="spotBase needs spotWeight 1 or more"):
        Capacity.model_validate({"onDemandBase": 0, "onDemandWeight": 1, "spotWeight": 0, "spotBase": 1})
