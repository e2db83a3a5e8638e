"""The services as the four stacks build them: what issue 3's "done" promises, read from the previews."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from foundation.settings import load_catalog
from policies.iam_documents import DOCUMENT_LOCATIONS, judge_policy_document
from tests.ecs_api import register_task_definition_problems

SERVICE = "aws:ecs/service:Service"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@pytest.fixture(params=["staging", "staging_standby", "prod", "prod_standby"])
def any_stack(request):
    return request.getfixturevalue(request.param)


def services_by_name(preview):
    return {s.inputs["name"]: s for s in preview.recorder.of_type(SERVICE)}


def test_prod_runs_five_services_with_tls_canary_alarm_rollback_autoscaling_and_alb_rules(prod):
    services = services_by_name(prod)
    assert sorted(services) == ["auth", "billing", "persona", "upload", "vc-start"]
    authority = prod.recorder.one("aws:acmpca/certificateAuthority:CertificateAuthority").outputs["arn"]
    targets = {t.inputs["resourceId"]: t for t in prod.recorder.of_type("aws:appautoscaling/target:Target")}
    rules = prod.recorder.of_type("aws:lb/listenerRule:ListenerRule")
    for name, service in services.items():
        connect = service.inputs["serviceConnectConfiguration"]["services"][0]
        assert connect["tls"]["issuerCertAuthority"]["awsPcaAuthorityArn"] == authority
        assert connect["timeout"] == {"perRequestTimeoutSeconds": 3, "idleTimeoutSeconds": 60}
        deployment = service.inputs["deploymentConfiguration"]
        assert deployment["strategy"] == "CANARY" and deployment["canaryConfiguration"]["canaryPercent"] == 5
        assert service.inputs["alarms"]["enable"] is True and service.inputs["alarms"]["rollback"] is True
        assert len(service.inputs["alarms"]["alarmNames"]) == 4
        target = targets[f"service/{service.inputs['cluster'].rsplit('/', 1)[-1]}/{name}"]
        catalog = prod.settings.service(name)
        assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (catalog.min_tasks, catalog.max_tasks)
    assert sorted(r.inputs["priority"] for r in rules) == [100, 200, 300, 400, 500]


def test_listener_rules_hang_off_the_serving_listener_with_unique_priorities(any_stack):
    rules = any_stack.recorder.of_type("aws:lb/listenerRule:ListenerRule")
    serving_port = 443 if any_stack.settings.config.dns else 80
    listener = next(item for item in any_stack.recorder.of_type("aws:lb/listener:Listener")
                    if item.inputs["port"] == serving_port)
    assert {r.inputs["listenerArn"] for r in rules} == {listener.outputs["arn"]}
    priorities = [r.inputs["priority"] for r in rules]
    assert len(set(priorities)) == len(priorities) and all(1 <= p <= 50000 for p in priorities)


def test_service_security_groups_admit_exactly_the_alb_and_the_client_group_callers_wear(any_stack):
    services = services_by_name(any_stack)
    group_of = {name: s.inputs["networkConfiguration"]["securityGroups"][0] for name, s in services.items()}
    name_of_group = {group: name for name, group in group_of.items()}
    client_group_of = {r.inputs["tags"]["clients-of"]: r.outputs["id"]
                       for r in any_stack.recorder.of_type("aws:ec2/securityGroup:SecurityGroup")
                       if "clients-of" in r.inputs["tags"]}
    alb_group = any_stack.recorder.one("aws:lb/loadBalancer:LoadBalancer").inputs["securityGroups"][0]
    sources: dict[str, set[str]] = defaultdict(set)
    for rule in any_stack.recorder.of_type(INGRESS):
        if rule.inputs["securityGroupId"] in name_of_group:
            callee = name_of_group[rule.inputs["securityGroupId"]]
            assert "cidrIpv4" not in rule.inputs
            source = rule.inputs["referencedSecurityGroupId"]
            # The ALB reaches the app on its port; callers reach the Service Connect proxy's ingress port.
            proxy_port = services[callee].inputs["serviceConnectConfiguration"]["services"][0]["ingressPortOverride"]
            expected = any_stack.settings.service(callee).port if source == alb_group else proxy_port
            assert rule.inputs["fromPort"] == rule.inputs["toPort"] == expected
            sources[callee].add("alb" if source == alb_group else "clients" if source == client_group_of[callee]
                                else source)
    catalog = load_catalog()
    for name, service in services.items():
        callers = {caller for caller in services if name in catalog.services[caller].calls}
        routed = any_stack.settings.service(name).routed
        assert sources[name] == ({"clients"} if callers else set()) | ({"alb"} if routed else set()), name
        # A caller's tasks wear exactly the client groups of the services it calls.
        worn = service.inputs["networkConfiguration"]["securityGroups"][1:]
        assert worn == [client_group_of[callee] for callee in catalog.services[name].calls], name


def test_every_task_definition_is_a_valid_ecs_register_request(any_stack):
    tasks = any_stack.recorder.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert len(tasks) == len(any_stack.settings.services)
    for task in tasks:
        request = {key: task.inputs[key] for key in (
            "family", "cpu", "memory", "networkMode", "requiresCompatibilities", "runtimePlatform",
            "executionRoleArn", "taskRoleArn", "volumes") if key in task.inputs}
        request["containerDefinitions"] = json.loads(task.inputs["containerDefinitions"])
        assert register_task_definition_problems(request) == [], task.name


def test_every_iam_document_the_program_emits_passes_the_wildcard_judge(any_stack):
    judged = 0
    for resource in any_stack.recorder.resources:
        for resource_type, path, kind in DOCUMENT_LOCATIONS:
            if resource.type != resource_type:
                continue
            if path[0].endswith("[]"):
                documents = [item.get(path[1]) for item in resource.inputs.get(path[0][:-2]) or []]
            else:
                documents = [resource.inputs.get(path[0])]
            for document in filter(None, documents):
                assert judge_policy_document(document, kind) == [], (resource.urn, document)
                judged += 1
    # per service: two roles with a trust document each, the execution role's permissions and, with
    # tracing, the task role's; plus the platform's boundary, key policy, log bucket policy and
    # infrastructure role trust
    per_service = 4 if any_stack.settings.config.tracing.enabled else 3
    assert judged >= per_service * len(any_stack.settings.services) + 4


def test_standby_services_read_secret_replicas_in_their_own_region(prod_standby):
    for task in prod_standby.recorder.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        for container in json.loads(task.inputs["containerDefinitions"]):
            for secret in container.get("secrets", []):
                assert ":eu-west-1:" in secret["valueFrom"], secret


def test_a_warm_standby_keeps_the_primarys_maximum_and_runs_its_standby_minimum(prod, prod_standby):
    def limits(preview):
        return sorted((t.inputs["resourceId"].rsplit("/", 1)[-1], t.inputs["minCapacity"], t.inputs["maxCapacity"])
                      for t in preview.recorder.of_type("aws:appautoscaling/target:Target"))

    # failover.standbyMinTasks defaults to one task per service; the Region switch plan raises it.
    assert limits(prod_standby) == [(name, 1, high) for name, _, high in limits(prod)]
