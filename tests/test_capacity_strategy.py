"""Which capacity providers a service's tasks may run on (components/mesh_service/component.py)."""

from __future__ import annotations

from components.mesh_service.component import capacity_strategy

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
