"""Data and events as the four stacks wire them (read from the session's offline previews)."""

from __future__ import annotations

import json


def _by_name(preview, typ):
    return {r.name: r for r in preview.recorder.of_type(typ)}


def test_only_persona_tasks_may_reach_postgres(prod):
    egress = [r for r in prod.recorder.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
              if r.inputs.get("fromPort") == 5432]
    persona_group = next(r for r in prod.recorder.of_type("aws:ec2/securityGroup:SecurityGroup")
                         if r.inputs["description"].startswith("prod/persona tasks"))
    assert [r.inputs["securityGroupId"] for r in egress] == [persona_group.outputs["id"]]


def test_both_pairs_replicate_their_database_at_half_an_acu_and_the_staging_secondary_is_headless(
        staging, staging_standby, prod, prod_standby):
    # A global database never auto-pauses (components/data/database.py), so no cluster of it asks for 0 ACU;
    # RDS cannot manage the master secret of a global database, so the primaries write it themselves.
    for primary in (staging, prod):
        cluster = primary.recorder.one("aws:rds/cluster:Cluster").inputs
        assert cluster["serverlessv2ScalingConfiguration"]["minCapacity"] == 0.5
        assert "manageMasterUserPassword" not in cluster
        assert cluster["globalClusterIdentifier"] == primary.recorder.one(
            "aws:rds/globalCluster:GlobalCluster").inputs["globalClusterIdentifier"]
    for standby, instances in ((staging_standby, 0), (prod_standby, 1)):
        secondary = standby.recorder.one("aws:rds/cluster:Cluster").inputs
        assert secondary["globalClusterIdentifier"] == f"{standby.settings.environment}-persona"
        assert len(standby.recorder.of_type("aws:rds/clusterInstance:ClusterInstance")) == instances


def test_a_headless_secondary_has_no_database_alarms_that_no_instance_could_feed(staging, staging_standby,
                                                                                   prod_standby):
    def database_alarms(preview):
        cluster = f"{preview.settings.environment}-persona"
        return sorted(a.inputs["name"].removeprefix(cluster + "-")
                      for a in preview.recorder.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
                      if a.inputs.get("dimensions") == {"DBClusterIdentifier": cluster})

    watched = ["acu", "connections", "cpu", "global-replication-lag", "global-rpo-lag"]
    assert database_alarms(staging) == database_alarms(prod_standby) == watched
    assert database_alarms(staging_standby) == []


def test_prod_tables_replicate_to_the_standby_with_a_key_of_the_standby_region(prod):
    replica_key = next(k for k in prod.recorder.of_type("aws:kms/key:Key") if k.inputs.get("region") == "eu-west-1")
    tables = prod.recorder.of_type("aws:dynamodb/table:Table")
    assert sorted(t.inputs["name"] for t in tables) == ["prod-upload", "prod-vc-start"]
    for table in tables:
        assert table.inputs["replicas"][0]["regionName"] == "eu-west-1"
        assert table.inputs["replicas"][0]["kmsKeyArn"] == replica_key.outputs["arn"]


def test_prod_standby_reads_the_replicas_without_a_primary_region_provider(prod_standby):
    providers = prod_standby.recorder.of_type("pulumi:providers:aws")
    assert [p.inputs["region"] for p in providers] == ["eu-west-1"]
    assert prod_standby.recorder.of_type("aws:dynamodb/table:Table") == []
    for pipe in prod_standby.recorder.of_type("aws:pipes/pipe:Pipe"):
        assert pipe.inputs["desiredState"] == "STOPPED" and ":eu-west-1:" in pipe.inputs["source"]
    secondary = prod_standby.recorder.one("aws:rds/cluster:Cluster").inputs
    assert secondary["globalClusterIdentifier"] == "prod-persona" and "masterUsername" not in secondary
    policy = json.loads(_by_name(prod_standby, "aws:iam/rolePolicy:RolePolicy")["prod-upload-data-task-data"]
                        .inputs["policy"])
    table = next(s for s in policy["Statement"] if s["Sid"] == "OwnTable")
    assert table["Resource"] == "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-upload"


def test_billings_task_role_names_exactly_its_three_queues(prod):
    policy = json.loads(_by_name(prod, "aws:iam/rolePolicy:RolePolicy")["prod-billing-data-task-data"].inputs["policy"])
    queues = next(s for s in policy["Statement"] if s["Sid"] == "OwnQueues")["Resource"]
    assert sorted(q.rsplit(":", 1)[1] for q in queues) == [
        "prod-billing-from-persona", "prod-billing-from-upload", "prod-billing-from-vc-start"]
    assert not any(s["Sid"].startswith("OwnTable") or s["Sid"] == "PublishAsItselfOnOwnBus"
                   for s in policy["Statement"])


def test_every_subscription_queue_has_its_backlog_in_the_consumers_scaling(prod):
    queues = {q.inputs["name"] for q in prod.recorder.of_type("aws:sqs/queue:Queue")
              if "-from-" in q.inputs["name"] and not q.inputs["name"].endswith("-dlq")}
    scaled = set()
    for policy in prod.recorder.of_type("aws:appautoscaling/policy:Policy"):
        spec = policy.inputs["targetTrackingScalingPolicyConfiguration"].get("customizedMetricSpecification")
        for metric in (spec or {}).get("metrics", []):
            scaled |= {d["value"] for d in metric.get("metricStat", {}).get("metric", {}).get("dimensions", [])
                       if d["name"] == "QueueName"}
    assert scaled == queues
