"""required-vpc-endpoints, no-world-open-ingress, alb-http-redirects-to-https, ecs-no-public-ip (stack and
resource policies that need the resource graph)."""

from __future__ import annotations

import pytest
from policy_records import UNKNOWN, StackRecords, of_policy

INTERFACE = ["ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager"]


def add_endpoints(stack: StackRecords, *, vpc_id=None, deps=None, region="eu-central-1", skip=(), **overrides):
    endpoints = {}
    for service in INTERFACE + ["s3"]:
        if service in skip:
            continue
        inputs = {"vpcId": vpc_id, "serviceName": f"com.amazonaws.{region}.{service}",
                  "vpcEndpointType": "Gateway" if service == "s3" else "Interface"}
        if service != "s3":
            inputs["privateDnsEnabled"] = True
        inputs.update(overrides.get(service, {}))
        endpoints[service] = stack.add("aws:ec2/vpcEndpoint:VpcEndpoint", f"ep-{service}", inputs, deps=deps)
    return endpoints


def endpoint_findings(pack, stack):
    return of_policy(pack.analyze_stack(stack.records), "required-vpc-endpoints")


def test_vpc_with_all_endpoints_linked_offline_by_id_passes(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"}, outputs={"id": "vpc-123"})
    add_endpoints(stack, vpc_id="vpc-123")
    assert endpoint_findings(pack, stack) == []


def test_vpc_with_endpoints_reached_only_through_property_dependencies_passes(pack):
    stack = StackRecords()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"}, outputs={"id": UNKNOWN})
    add_endpoints(stack, vpc_id=UNKNOWN, deps={"vpcId": [vpc]})
    assert endpoint_findings(pack, stack) == []


def test_missing_endpoint_is_reported_on_the_vpc_with_the_service_name(pack):
    stack = StackRecords()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": UNKNOWN})
    add_endpoints(stack, vpc_id=UNKNOWN, deps={"vpcId": [vpc]}, skip={"secretsmanager", "s3"})
    found = endpoint_findings(pack, stack)
    assert sorted(d.detail.split("'")[3] for d in found) == [
        "com.amazonaws.eu-central-1.s3", "com.amazonaws.eu-central-1.secretsmanager"]
    assert {d.urn for d in found} == {vpc["urn"]} and {d.enforcement_level for d in found} == {"mandatory"}


def test_endpoints_of_another_vpc_do_not_count(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "a", {}, outputs={"id": "vpc-a"})
    stack.add("aws:ec2/vpc:Vpc", "b", {}, outputs={"id": "vpc-b"})
    add_endpoints(stack, vpc_id="vpc-a")
    found = endpoint_findings(pack, stack)
    assert len(found) == 6 and all(d.resource_name == "b" for d in found)


def test_endpoint_in_the_wrong_region_is_reported_on_the_endpoint(pack):
    stack = StackRecords(region="eu-west-1")
    stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": "vpc-1"})
    endpoints = add_endpoints(stack, vpc_id="vpc-1", region="eu-west-1",
                              logs={"serviceName": "com.amazonaws.eu-central-1.logs"})
    found = endpoint_findings(pack, stack)
    assert len(found) == 1 and found[0].urn == endpoints["logs"]["urn"]
    assert "com.amazonaws.eu-west-1.logs" in found[0].detail


def test_vpc_region_comes_from_its_own_region_input(pack):
    stack = StackRecords(region="eu-central-1")
    stack.add("aws:ec2/vpc:Vpc", "dr", {"region": "eu-west-1"}, outputs={"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1", region="eu-central-1")
    found = endpoint_findings(pack, stack)
    assert len(found) == 6 and all("names region eu-central-1 but the VPC is in eu-west-1" in d.detail for d in found)


def test_interface_endpoint_without_private_dns_is_reported(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": "vpc-1"})
    endpoints = add_endpoints(stack, vpc_id="vpc-1", ssm={"privateDnsEnabled": False},
                              logs={"privateDnsEnabled": UNKNOWN})
    found = endpoint_findings(pack, stack)
    assert {d.urn for d in found} == {endpoints["ssm"]["urn"], endpoints["logs"]["urn"]}
    assert any("unknown during preview" in d.detail for d in found)


def test_awsx_vpc_component_counts_as_a_vpc_offline_and_with_property_dependencies(pack):
    offline = StackRecords()
    offline.component("awsx:ec2:Vpc", "net", outputs={"vpcId": "vpc-x"})
    add_endpoints(offline, vpc_id="vpc-x")
    assert endpoint_findings(pack, offline) == []

    preview = StackRecords()
    awsx = preview.component("awsx:ec2:Vpc", "net", outputs={"vpcId": UNKNOWN})
    preview.add("aws:ec2/vpc:Vpc", "net", {}, parent=awsx, outputs={"id": UNKNOWN})  # real preview: the child
    add_endpoints(preview, vpc_id=UNKNOWN, deps={"vpcId": [awsx]})
    assert endpoint_findings(pack, preview) == []

    missing = StackRecords()
    missing.component("awsx:ec2:Vpc", "net", outputs={"vpcId": "vpc-x"})
    assert len(endpoint_findings(pack, missing)) == 6


def test_required_endpoint_list_is_configurable(pack):
    stack = StackRecords()
    stack.add("aws:ec2/vpc:Vpc", "main", {}, outputs={"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1")
    pack.configure({"required-vpc-endpoints": {"interfaceServices": INTERFACE + ["sts"]}})
    found = endpoint_findings(pack, stack)
    assert len(found) == 1 and "com.amazonaws.eu-central-1.sts" in found[0].detail


# --- security groups -------------------------------------------------------------------------------

def alb_stack(ingress_port=443, lb_type="application"):
    stack = StackRecords()
    sg = stack.add("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"vpcId": "vpc-1"}, outputs={"id": UNKNOWN})
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": lb_type, "securityGroups": [UNKNOWN]},
              deps={"securityGroups": [sg]})
    rule = stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-in", {
        "securityGroupId": UNKNOWN, "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
        "fromPort": ingress_port, "toPort": ingress_port}, deps={"securityGroupId": [sg]})
    return stack, rule


def sg_findings(pack, stack):
    return of_policy(pack.analyze_stack(stack.records), "no-world-open-ingress")


def test_world_https_into_an_alb_security_group_passes(pack):
    stack, _ = alb_stack(443)
    assert sg_findings(pack, stack) == []


def test_world_ingress_on_other_ports_of_an_alb_group_is_mandatory(pack):
    stack, rule = alb_stack(22)
    found = sg_findings(pack, stack)
    assert len(found) == 1 and found[0].urn == rule["urn"] and "0.0.0.0/0" in found[0].detail


def test_world_https_into_a_network_load_balancer_group_is_reported(pack):
    stack, _ = alb_stack(443, lb_type="network")
    assert len(sg_findings(pack, stack)) == 1


def test_world_ingress_on_a_task_security_group_inline_rule_is_reported(pack):
    stack = StackRecords()
    sg = stack.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"ingress": [
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": [], "ipv6CidrBlocks": ["::/0"]},
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": [UNKNOWN]}]})
    found = sg_findings(pack, stack)
    assert len(found) == 1 and found[0].urn == sg["urn"] and "ingress[0]" in found[0].detail


def test_legacy_security_group_rule_linked_offline_by_id(pack):
    stack = StackRecords()
    stack.add("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {}, outputs={"id": "sg-1"})
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": ["sg-1"]})
    stack.add("aws:ec2/securityGroupRule:SecurityGroupRule", "http", {
        "type": "ingress", "securityGroupId": "sg-1", "protocol": "tcp", "fromPort": 80, "toPort": 80,
        "cidrBlocks": ["0.0.0.0/0"]})
    stack.add("aws:ec2/securityGroupRule:SecurityGroupRule", "all", {
        "type": "ingress", "securityGroupId": "sg-1", "protocol": "-1", "fromPort": 0, "toPort": 0,
        "cidrBlocks": ["0.0.0.0/0"]})
    found = sg_findings(pack, stack)
    assert [d.resource_name for d in found] == ["all"]


# --- ALB listeners ---------------------------------------------------------------------------------

def listener_stack(http_action):
    stack = StackRecords()
    lb = stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {}, outputs={"arn": UNKNOWN})
    stack.add("aws:lb/listener:Listener", "https", {"loadBalancerArn": UNKNOWN, "protocol": "HTTPS", "port": 443,
                                                    "defaultActions": [{"type": "forward"}]},
              deps={"loadBalancerArn": [lb]})
    http = stack.add("aws:lb/listener:Listener", "http", {"loadBalancerArn": UNKNOWN, "protocol": "HTTP",
                                                          "port": 80, "defaultActions": [http_action]},
                     deps={"loadBalancerArn": [lb]})
    return stack, http


def test_http_listener_redirecting_to_https_passes(pack):
    stack, _ = listener_stack({"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                               "statusCode": "HTTP_301"}})
    assert of_policy(pack.analyze_stack(stack.records), "alb-http-redirects-to-https") == []


@pytest.mark.parametrize("action", [
    {"type": "forward", "targetGroupArn": "arn:tg"},
    {"type": "redirect", "redirect": {"protocol": "HTTPS", "statusCode": "HTTP_301"}},  # keeps port 80
    UNKNOWN,
])
def test_http_listener_not_redirecting_to_the_https_port_is_mandatory(pack, action):
    stack, http = listener_stack(action)
    found = of_policy(pack.analyze_stack(stack.records), "alb-http-redirects-to-https")
    assert len(found) == 1 and found[0].urn == http["urn"] and found[0].enforcement_level == "mandatory"


def test_http_listener_on_an_alb_without_https_is_not_judged(pack):
    stack = StackRecords()
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {}, outputs={"arn": "arn:lb"})
    stack.add("aws:lb/listener:Listener", "http", {"loadBalancerArn": "arn:lb", "protocol": "HTTP", "port": 80,
                                                   "defaultActions": [{"type": "forward"}]})
    assert of_policy(pack.analyze_stack(stack.records), "alb-http-redirects-to-https") == []


# --- ECS public IPs --------------------------------------------------------------------------------

@pytest.mark.parametrize("assign, expected", [(False, 0), (None, 0), (True, 1), (UNKNOWN, 1)])
def test_ecs_service_public_ip(pack, assign, expected):
    stack = StackRecords()
    network = {"subnets": ["subnet-1"]} if assign is None else {"subnets": ["subnet-1"], "assignPublicIp": assign}
    service = stack.add("aws:ecs/service:Service", "api", {"networkConfiguration": network})
    assert len(of_policy(pack.analyze(service, stack.records), "ecs-no-public-ip")) == expected
