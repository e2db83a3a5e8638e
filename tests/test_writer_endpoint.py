"""Services find their database through the writer endpoint the stack gives them (the global writer endpoint
where the database is global), never by looking the cluster up; a standby runs its warm minimum."""

from __future__ import annotations

import json

PARAMETER = "aws:ssm/parameter:Parameter"


def host_parameter(preview, service="persona"):
    return preview.recorder.one(PARAMETER, f"{preview.settings.environment}-{service}-config-data-database-host")


def value(raw):
    return raw["value"] if isinstance(raw, dict) and "value" in raw else raw


def test_replicating_pairs_write_through_the_global_writer_endpoint_in_both_regions(
        prod, prod_standby, staging, staging_standby):
    for primary, standby in ((prod, prod_standby), (staging, staging_standby)):
        global_cluster = primary.recorder.one("aws:rds/globalCluster:GlobalCluster")
        endpoint = global_cluster.outputs["endpoint"]
        assert endpoint.endswith(".global.rds.amazonaws.com")
        assert value(host_parameter(primary).inputs["value"]) == endpoint
        assert value(host_parameter(standby).inputs["value"]) == endpoint
        assert primary.outputs["databases"]["persona"]["writerEndpoint"] == endpoint


def test_a_pair_that_does_not_replicate_writes_through_each_clusters_own_writer_endpoint(minimal_staging_standby):
    for preview in (minimal_staging_standby.primary, minimal_staging_standby):
        assert preview is not None and not preview.recorder.of_type("aws:rds/globalCluster:GlobalCluster")
        cluster = preview.recorder.one("aws:rds/cluster:Cluster")
        assert value(host_parameter(preview).inputs["value"]) == cluster.outputs["endpoint"]


def test_the_host_reaches_the_task_as_a_config_parameter_and_no_role_may_describe_clusters(prod_standby):
    parameter = host_parameter(prod_standby)
    assert parameter.inputs["name"] == "/prod/persona/DATA_DATABASE_HOST"
    task = prod_standby.recorder.one("aws:ecs/taskDefinition:TaskDefinition", "prod-persona-taskdef")
    containers = json.loads(task.inputs["containerDefinitions"])
    secrets = {s["name"]: s["valueFrom"] for c in containers for s in c.get("secrets", [])}
    assert secrets["DATA_DATABASE_HOST"] == parameter.outputs["arn"]
    documents = [p.inputs.get("policy") for p in prod_standby.recorder.of_type("aws:iam/rolePolicy:RolePolicy")]
    documents += [p.inputs.get("policy") for p in prod_standby.recorder.of_type("aws:iam/policy:Policy")]
    # Only the Region switch plan's execution role reads clusters (to move their writer), no task role.
    readers = [d for d in documents if isinstance(d, str) and "rds:DescribeDBClusters" in d]
    assert readers and all("MoveThePlansWriters" in d for d in readers)


def test_a_standby_runs_one_task_per_service_until_the_plan_raises_it(prod, prod_standby):
    for name in {s.name for s in prod.settings.services}:
        standby = prod_standby.recorder.one("aws:appautoscaling/target:Target", f"prod-{name}-scaling")
        primary = prod.recorder.one("aws:appautoscaling/target:Target", f"prod-{name}-scaling")
        assert standby.inputs["minCapacity"] == 1
        assert primary.inputs["minCapacity"] == prod.settings.service(name).min_tasks >= 2
        assert standby.inputs["maxCapacity"] == primary.inputs["maxCapacity"]


def test_the_standbys_own_alarmed_check_probes_liveness_because_a_warm_standby_is_not_ready(prod_standby):
    alarms = [c for c in prod_standby.recorder.of_type("aws:route53/healthCheck:HealthCheck")
              if prod_standby.recorder.by_urn(c.parent).type == "microservices:observability:FailoverAlarms"]
    (own,) = alarms
    assert own.inputs["resourcePath"] == "/api/persona/health"
    assert prod_standby.settings.config.failover.health_check_path == "/api/persona/ready"
