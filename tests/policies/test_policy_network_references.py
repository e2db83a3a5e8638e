"""no-default-network-use, alb-http-redirects-to-https on listener rules, required-vpc-endpoints on endpoints that
reach nothing: the references the network policies follow."""

from __future__ import annotations

import pytest
from test_policy_network import add_endpoints, endpoint_findings
from views import UNKNOWN, Stack, findings

from policies.alb_listeners import ALB_HTTP_REDIRECTS_TO_HTTPS
from policies.default_network import NO_DEFAULT_NETWORK_USE

# --- default network by reference, listener rules, endpoints that reach nothing -----------------------------

def test_the_default_security_group_opened_by_separate_rule_resources_is_refused():

    stack = Stack()
    stack.add("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {"id": "sg-default"})
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"id": UNKNOWN})
    by_id = stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "by-id", {
        "securityGroupId": "sg-default", "ipProtocol": "-1", "cidrIpv4": "10.0.0.0/8"})
    via_vpc = stack.add("aws:ec2/securityGroupRule:SecurityGroupRule", "via-vpc", {
        "securityGroupId": UNKNOWN, "type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0,
        "cidrBlocks": ["10.0.0.0/8"]}, deps={"securityGroupId": [vpc]})
    assert {f.urn for f in findings(NO_DEFAULT_NETWORK_USE, stack.views)} == {by_id.urn, via_vpc.urn}


def test_the_default_vpc_referenced_by_id_or_its_subnets_are_refused_and_the_own_vpc_passes():

    stack = Stack()
    stack.add("aws:ec2/defaultVpc:DefaultVpc", "default", {"id": "vpc-default"})
    stack.add("aws:ec2/defaultSubnet:DefaultSubnet", "default-a", {"id": "subnet-default-a"})
    group = stack.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"vpcId": "vpc-default"})
    service = stack.add("aws:ecs/service:Service", "svc", {"networkConfiguration": {"subnets": ["subnet-x"]},
                                                           "subnetIds": ["subnet-default-a"]})
    known = stack.add("aws:lb/targetGroup:TargetGroup", "tg", {"vpcId": "vpc-0abc"})
    assert {f.urn for f in findings(NO_DEFAULT_NETWORK_USE, stack.views)} == {group.urn, service.urn}
    assert [f.urn for f in findings(NO_DEFAULT_NETWORK_USE, stack.views, defaultVpcIds=["vpc-0abc"])
            if f.urn == known.urn] == [known.urn]
    own = Stack()
    vpc = own.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1", "defaultSecurityGroupId": "sg-default"})
    own.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"vpcId": "vpc-1"}, deps={"vpcId": [vpc]})
    own.add("aws:ecs/service:Service", "svc", {"networkConfiguration": {"subnets": [UNKNOWN], "securityGroups": [
        UNKNOWN]}}, deps={"networkConfiguration": [vpc]})  # subnets derived from the VPC are not its default group
    assert findings(NO_DEFAULT_NETWORK_USE, own.views) == []


def _alb_with_http_rule(actions):
    stack = Stack()
    lb = stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"arn": "arn:lb", "loadBalancerType": "application"})
    stack.add("aws:lb/listener:Listener", "https", {"loadBalancerArn": "arn:lb", "protocol": "HTTPS", "port": 443})
    http = stack.add("aws:lb/listener:Listener", "http", {
        "arn": "arn:http", "loadBalancerArn": "arn:lb", "protocol": "HTTP", "port": 80,
        "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}]})
    rule = stack.add("aws:lb/listenerRule:ListenerRule", "rule", {"listenerArn": "arn:http", "actions": actions})
    return stack, lb, http, rule


def test_a_listener_rule_that_forwards_on_the_http_listener_is_refused():
    stack, _, _, rule = _alb_with_http_rule([{"type": "forward", "targetGroupArn": "arn:tg"}])
    assert [f.urn for f in findings(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views)] == [rule.urn]


def test_a_listener_rule_that_redirects_to_https_or_answers_fixed_passes():
    stack, *_ = _alb_with_http_rule([{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}},
                                     {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain"}}])
    assert findings(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views) == []


@pytest.mark.parametrize("service, change, why", [
    ("logs", {"subnetIds": []}, "no subnetIds"),
    ("s3", {"routeTableIds": []}, "no routeTableIds"),
    ("ssm", {"policy": '{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}'},
     "allows nothing"),
])
def test_an_endpoint_that_reaches_nothing_does_not_count(service, change, why):
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1", **{service: change})
    [finding] = endpoint_findings(stack)
    assert why in finding.message


def test_endpoints_attached_through_association_resources_count():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1", s3={"routeTableIds": [], "id": "vpce-s3"})
    stack.add("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation", "s3-private",
              {"vpcEndpointId": "vpce-s3", "routeTableId": "rtb-1"})
    assert endpoint_findings(stack) == []


# --- the index the stack policies look references up in --------------------------------------------------------

def test_the_targets_index_finds_exactly_the_targets_refers_to_finds_in_their_order():
    import random

    from policies.stack_links import Targets, refers_to

    rng = random.Random(7)
    stack = Stack()
    ids = ["sg-1", "sg-2", "sg-3", UNKNOWN, "", None]
    groups = [stack.add("aws:ec2/securityGroup:SecurityGroup", f"g{i}", {"id": rng.choice(ids), "arn": rng.choice(ids)})
              for i in range(12)]
    for keys in (("id",), ("id", "arn")):
        index = Targets(groups, keys=keys)
        for i in range(200):
            value = rng.choice([rng.choice(ids), [rng.choice(ids) for _ in range(3)], {"id": "sg-1"}, UNKNOWN, None])
            deps = rng.sample(groups, rng.randint(0, 3)) + rng.sample(stack.views, 1)
            source = stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"r{i}",
                               {"securityGroupId": value}, deps={"securityGroupId": deps})
            expected = [g for g in groups if refers_to(source, "securityGroupId", g, keys=keys)]
            assert index.referred(source, "securityGroupId") == expected
            assert index.referred(source, "other") == []
