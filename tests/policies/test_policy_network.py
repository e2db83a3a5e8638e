"""required-vpc-endpoints, no-world-open-ingress, alb-http-redirects-to-https: stack policies that need the
resource graph."""

from __future__ import annotations

import pytest
from views import UNKNOWN, Stack, findings, not_judged, validate

from policies.alb_listeners import ALB_HTTP_REDIRECTS_TO_HTTPS
from policies.security_groups import NO_WORLD_OPEN_INGRESS
from policies.vpc_endpoints import REQUIRED_VPC_ENDPOINTS

INTERFACE = ["ecr.api", "ecr.dkr", "logs", "ssm", "secretsmanager"]


def add_endpoints(stack: Stack, *, vpc_id=None, deps=None, region="eu-central-1", skip=(), **overrides):
    endpoints = {}
    for service in INTERFACE + ["s3"]:
        if service in skip:
            continue
        props = {"vpcId": vpc_id, "serviceName": f"com.amazonaws.{region}.{service}",
                 "vpcEndpointType": "Gateway" if service == "s3" else "Interface"}
        if service != "s3":
            props["privateDnsEnabled"] = True
            props["subnetIds"] = ["subnet-private-a", "subnet-private-b"]
        else:
            props["routeTableIds"] = ["rtb-private-a"]
        props.update(overrides.get(service, {}))
        endpoints[service] = stack.add("aws:ec2/vpcEndpoint:VpcEndpoint", f"ep-{service}", props, deps=deps)
    return endpoints


def endpoint_findings(stack, **knobs):
    return findings(REQUIRED_VPC_ENDPOINTS, stack.views, **knobs)


def test_vpc_with_all_endpoints_linked_offline_by_id_passes():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16", "id": "vpc-123"})
    add_endpoints(stack, vpc_id="vpc-123")
    assert endpoint_findings(stack) == []


def test_vpc_with_endpoints_reached_only_through_property_dependencies_passes():
    stack = Stack()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16", "id": UNKNOWN})
    add_endpoints(stack, vpc_id=UNKNOWN, deps={"vpcId": [vpc]})
    assert endpoint_findings(stack) == []


def test_missing_endpoint_is_reported_on_the_vpc_with_the_service_name():
    stack = Stack()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"id": UNKNOWN})
    add_endpoints(stack, vpc_id=UNKNOWN, deps={"vpcId": [vpc]}, skip={"secretsmanager", "s3"})
    found = endpoint_findings(stack)
    assert sorted(f.message.split("'")[1] for f in found) == [
        "com.amazonaws.eu-central-1.s3", "com.amazonaws.eu-central-1.secretsmanager"]
    assert {f.urn for f in found} == {vpc.urn}


def test_endpoints_of_another_vpc_do_not_count():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "a", {"id": "vpc-a"})
    b = stack.add("aws:ec2/vpc:Vpc", "b", {"id": "vpc-b"})
    add_endpoints(stack, vpc_id="vpc-a")
    found = endpoint_findings(stack)
    assert len(found) == 6 and {f.urn for f in found} == {b.urn}


def test_endpoint_in_the_wrong_region_is_reported_on_the_endpoint():
    stack = Stack(region="eu-west-1")
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    endpoints = add_endpoints(stack, vpc_id="vpc-1", region="eu-west-1",
                              logs={"serviceName": "com.amazonaws.eu-central-1.logs"})
    [found] = endpoint_findings(stack)
    assert found.urn == endpoints["logs"].urn and "com.amazonaws.eu-west-1.logs" in found.message


def test_vpc_region_comes_from_its_own_region_input():
    stack = Stack(region="eu-central-1")
    stack.add("aws:ec2/vpc:Vpc", "dr", {"region": "eu-west-1", "id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1", region="eu-central-1")
    found = endpoint_findings(stack)
    assert len(found) == 6 and all("names region eu-central-1 but the VPC is in eu-west-1" in f.message for f in found)


def test_interface_endpoint_without_private_dns_is_reported_and_unknown_counts_as_unverified():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    endpoints = add_endpoints(stack, vpc_id="vpc-1", ssm={"privateDnsEnabled": False},
                              logs={"privateDnsEnabled": UNKNOWN})
    found = endpoint_findings(stack)
    assert {f.urn for f in found} == {endpoints["ssm"].urn, endpoints["logs"].urn}
    assert any("unknown during preview" in f.message for f in found)


def test_unknown_service_name_cannot_satisfy_the_requirement():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1", logs={"serviceName": UNKNOWN})
    [found] = endpoint_findings(stack)
    assert "'ep-logs' have a serviceName unknown during preview" in found.message


def test_awsx_vpc_component_counts_as_a_vpc_offline_and_with_property_dependencies():
    offline = Stack()
    offline.component("awsx:ec2:Vpc", "net", {"vpcId": "vpc-x"})
    add_endpoints(offline, vpc_id="vpc-x")
    assert endpoint_findings(offline) == []

    preview = Stack()
    awsx = preview.component("awsx:ec2:Vpc", "net", {"vpcId": UNKNOWN})
    preview.add("aws:ec2/vpc:Vpc", "net", {"id": UNKNOWN}, parent=awsx)  # real preview: the child
    add_endpoints(preview, vpc_id=UNKNOWN, deps={"vpcId": [awsx]})
    assert endpoint_findings(preview) == []

    missing = Stack()
    missing.component("awsx:ec2:Vpc", "net", {"vpcId": "vpc-x"})
    assert len(endpoint_findings(missing)) == 6


def test_required_endpoint_list_is_configurable():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1")
    [found] = endpoint_findings(stack, interfaceServices=INTERFACE + ["sts"])
    assert "com.amazonaws.eu-central-1.sts" in found.message


# --- security groups -------------------------------------------------------------------------------

def alb_stack(ingress_port=443, lb_type="application"):
    stack = Stack()
    sg = stack.add("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"vpcId": "vpc-1", "id": UNKNOWN})
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"loadBalancerType": lb_type, "securityGroups": [UNKNOWN]},
              deps={"securityGroups": [sg]})
    rule = stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-in", {
        "securityGroupId": UNKNOWN, "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp",
        "fromPort": ingress_port, "toPort": ingress_port}, deps={"securityGroupId": [sg]})
    return stack, rule


def sg_findings(stack, **knobs):
    return findings(NO_WORLD_OPEN_INGRESS, stack.views, **knobs)


def test_world_https_into_an_alb_security_group_passes():
    stack, _ = alb_stack(443)
    assert sg_findings(stack) == []


def test_world_ingress_on_other_ports_of_an_alb_group_is_reported_on_the_rule():
    stack, rule = alb_stack(22)
    [found] = sg_findings(stack)
    assert found.urn == rule.urn and "0.0.0.0/0" in found.message


def test_world_https_into_a_network_load_balancer_group_is_reported():
    stack, _ = alb_stack(443, lb_type="network")
    assert len(sg_findings(stack)) == 1


def test_world_ingress_on_a_task_security_group_inline_rule_is_reported():
    stack = Stack()
    sg = stack.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"ingress": [
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": [], "ipv6CidrBlocks": ["::/0"]},
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": [UNKNOWN]}]})
    [found] = sg_findings(stack)
    assert found.urn == sg.urn and "ingress[0]" in found.message


def test_legacy_security_group_rule_linked_offline_by_id():
    stack = Stack()
    stack.add("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"id": "sg-1"})
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": ["sg-1"]})
    stack.add("aws:ec2/securityGroupRule:SecurityGroupRule", "http", {
        "type": "ingress", "securityGroupId": "sg-1", "protocol": "tcp", "fromPort": 80, "toPort": 80,
        "cidrBlocks": ["0.0.0.0/0"]})
    everything = stack.add("aws:ec2/securityGroupRule:SecurityGroupRule", "all", {
        "type": "ingress", "securityGroupId": "sg-1", "protocol": "-1", "fromPort": 0, "toPort": 0,
        "cidrBlocks": ["0.0.0.0/0"]})
    assert [f.urn for f in sg_findings(stack)] == [everything.urn]


# --- ALB listeners ---------------------------------------------------------------------------------

def listener_stack(http_action):
    stack = Stack()
    lb = stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"arn": UNKNOWN})
    stack.add("aws:lb/listener:Listener", "https", {"loadBalancerArn": UNKNOWN, "protocol": "HTTPS", "port": 443,
                                                    "defaultActions": [{"type": "forward"}]},
              deps={"loadBalancerArn": [lb]})
    http = stack.add("aws:lb/listener:Listener", "http", {"loadBalancerArn": UNKNOWN, "protocol": "HTTP",
                                                          "port": 80, "defaultActions": [http_action]},
                     deps={"loadBalancerArn": [lb]})
    return stack, http


def test_http_listener_redirecting_to_https_passes():
    stack, _ = listener_stack({"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                               "statusCode": "HTTP_301"}})
    assert findings(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views) == []


@pytest.mark.parametrize("action", [
    {"type": "forward", "targetGroupArn": "arn:tg"},
    {"type": "redirect", "redirect": {"protocol": "HTTPS", "statusCode": "HTTP_301"}},  # keeps port 80
    UNKNOWN,
])
def test_http_listener_not_redirecting_to_the_https_port_is_reported(action):
    stack, http = listener_stack(action)
    [found] = findings(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views)
    assert found.urn == http.urn


def test_http_listener_on_an_alb_without_https_is_not_judged():
    stack = Stack()
    stack.add("aws:lb/loadBalancer:LoadBalancer", "alb", {"arn": "arn:lb"})
    stack.add("aws:lb/listener:Listener", "http", {"loadBalancerArn": "arn:lb", "protocol": "HTTP", "port": 80,
                                                   "defaultActions": [{"type": "forward"}]})
    assert findings(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views) == []


# --- sources that open the world only together -------------------------------------------------------------

def task_group_with(*rules):
    stack = Stack()
    group = stack.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"vpcId": "vpc-1", "id": UNKNOWN})
    added = [stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", f"in-{i}", {
        "securityGroupId": UNKNOWN, "ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, **rule},
        deps={"securityGroupId": [group]}) for i, rule in enumerate(rules)]
    return stack, added


@pytest.mark.parametrize("rules, blamed", [
    (({"cidrIpv4": "0.0.0.0/1"}, {"cidrIpv4": "128.0.0.0/1"}), {0, 1}),
    (({"cidrIpv4": "0.0.0.0/2"}, {"cidrIpv4": "64.0.0.0/2"}, {"cidrIpv4": "128.0.0.0/1"}), {0, 1, 2}),
    (({"cidrIpv6": "::/1"}, {"cidrIpv6": "8000::/1"}), {0}),   # 8000::/1 holds no global unicast address
    (({"cidrIpv6": "::/0"},), {0}),
    (({"cidrIpv6": "2000::/3"},), {0}),                       # all of IPv6 global unicast
    (({"cidrIpv6": "2000::/4"}, {"cidrIpv6": "3000::/4"}), {0, 1}),
    (tuple({"cidrIpv4": c} for c in ("1.0.0.0/8", "2.0.0.0/7", "4.0.0.0/6", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6",
                                     "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3")),
     set(range(11))),                                         # every public IPv4 range, no special-purpose block
])
def test_cidrs_that_open_the_world_together_are_reported_on_each_rule_that_reaches_the_internet(rules, blamed):
    stack, added = task_group_with(*rules)
    found = sg_findings(stack)
    assert {f.urn for f in found} == {added[i].urn for i in blamed}
    assert all("(the whole internet)" in f.message for f in found)
    if len(blamed) > 1:
        assert "together with" in found[0].message


def test_world_halves_in_one_inline_rule_are_the_world():
    stack = Stack()
    stack.add("aws:ec2/securityGroup:SecurityGroup", "tasks", {"ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}]})
    assert len(sg_findings(stack)) == 1


def test_private_and_narrow_public_ranges_do_not_open_the_world():
    stack, _ = task_group_with({"cidrIpv4": "10.0.0.0/8"}, {"cidrIpv4": "81.0.0.0/9"}, {"cidrIpv6": "2a01:4f8::/32"},
                               {"cidrIpv6": "fd00::/8"}, {"cidrIpv4": "172.16.0.0/12"}, {"cidrIpv4": "192.168.0.0/16"},
                               {"cidrIpv4": "81.128.0.0/9"})
    assert sg_findings(stack) == []


@pytest.mark.parametrize("cidrs", [
    ("0.0.0.0/1",),                                          # half the address space is most of the internet
    ("2000::/4",),
    ("0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4"),  # everything but 240.0.0.0/4
    tuple(str(n) for n in __import__("ipaddress").ip_network("0.0.0.0/0").address_exclude(
        __import__("ipaddress").ip_network("8.8.8.8/32"))),  # everything but one address
])
def test_sources_covering_most_of_the_internet_are_the_world(cidrs):
    key = "cidrIpv6" if ":" in cidrs[0] else "cidrIpv4"
    stack, _ = task_group_with(*({key: c} for c in cidrs))
    assert sg_findings(stack) and all("(the whole internet)" in f.message for f in sg_findings(stack))


def test_only_the_rules_that_reach_the_internet_are_blamed():
    stack, (private, half, other_half) = task_group_with({"cidrIpv4": "10.0.0.0/8"}, {"cidrIpv4": "0.0.0.0/1"},
                                                         {"cidrIpv4": "128.0.0.0/1"})
    assert {f.urn for f in sg_findings(stack)} == {half.urn, other_half.urn} and private.urn


def _two_groups(first: str, second: str) -> Stack:
    stack = Stack()
    for name, cidr in (("sg-1", first), ("sg-2", second)):
        stack.add("aws:ec2/securityGroup:SecurityGroup", name, {"id": name, "ingress": [
            {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": [cidr]}]})
    return stack


def test_ranges_on_different_groups_of_different_resources_do_not_add_up():
    stack = _two_groups("81.0.0.0/9", "81.128.0.0/9")
    stack.add("aws:ecs/service:Service", "a", {"networkConfiguration": {"securityGroups": ["sg-1"]}})
    stack.add("aws:ecs/service:Service", "b", {"networkConfiguration": {"securityGroups": ["sg-2"]}})
    assert sg_findings(stack) == []


def test_two_groups_on_one_interface_that_open_the_internet_together_are_reported_on_the_resource():
    stack = _two_groups("81.0.0.0/9", "81.128.0.0/9")
    stack.add("aws:ecs/service:Service", "narrow", {"networkConfiguration": {"securityGroups": ["sg-1", "sg-2"]}})
    assert sg_findings(stack) == []  # one /8 together: within the limit
    wide = _two_groups("81.0.0.0/8", "82.0.0.0/8")  # each within the limit of one /8
    wide.add("aws:ec2/securityGroup:SecurityGroup", "sg-3", {"id": "sg-3", "ingress": [
        {"protocol": "tcp", "fromPort": 8080, "toPort": 8080, "cidrBlocks": ["83.0.0.0/8"]}]})
    service = wide.add("aws:ecs/service:Service", "svc", {"networkConfiguration": {"securityGroups": ["sg-2", "sg-3"]}})
    instance = wide.add("aws:ec2/instance:Instance", "vm", {"vpcSecurityGroupIds": ["sg-1", "sg-2"]})
    wide.add("aws:ecs/service:Service", "alone", {"networkConfiguration": {"securityGroups": ["sg-1"]}})
    found = sg_findings(wide)
    assert {f.urn for f in found} == {service.urn, instance.urn}
    assert all("together accept" in f.message for f in found)
    assert sg_findings(wide, widestInternetPrefix={"ipv4": 6, "ipv6": 32}) == []


def test_managed_prefix_lists_of_the_stack_are_resolved():
    stack = Stack()
    stack.add("aws:ec2/managedPrefixList:ManagedPrefixList", "world", {
        "id": "pl-1", "entries": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]})
    stack.add("aws:ec2/securityGroup:SecurityGroup", "sg", {"id": "sg-1", "ingress": [
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListIds": ["pl-1"]}]})
    assert len(sg_findings(stack)) == 1
    entry_stack = Stack()
    entry_list = entry_stack.add("aws:ec2/managedPrefixList:ManagedPrefixList", "office", {"id": UNKNOWN})
    entry_stack.add("aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry", "office-a",
                    {"prefixListId": UNKNOWN, "cidr": "81.2.3.0/24"}, deps={"prefixListId": [entry_list]})
    entry_stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "in", {
        "securityGroupId": "sg-9", "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "prefixListId": UNKNOWN},
        deps={"prefixListId": [entry_list]})
    assert sg_findings(entry_stack) == []


def test_alb_https_from_world_halves_is_still_the_allowed_alb_rule():
    stack, rule = alb_stack(443)
    rule.props["cidrIpv4"] = "0.0.0.0/1"
    stack.add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "https-in-2", dict(
        rule.props, cidrIpv4="128.0.0.0/1"), deps=rule.property_dependencies)
    assert sg_findings(stack) == []


def test_an_unknown_source_that_might_complete_the_world_is_deferred():
    stack, _ = task_group_with({"cidrIpv4": "81.0.0.0/9"}, {"cidrIpv4": UNKNOWN})
    assert "source CIDR unknown" in not_judged(NO_WORLD_OPEN_INGRESS, stack.views)


def test_the_default_security_group_opened_to_the_world_is_reported():
    stack = Stack()
    group = stack.add("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {"ingress": [
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]})
    assert [f.urn for f in sg_findings(stack)] == [group.urn]


# --- unknowns are deferred, never passed ------------------------------------------------------------

def test_an_endpoint_whose_vpc_cannot_be_determined_is_deferred_not_ignored():
    stack = Stack()
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1")
    stack.add("aws:ec2/vpcEndpoint:VpcEndpoint", "stray", {
        "vpcId": UNKNOWN, "serviceName": "com.amazonaws.eu-west-1.sts", "vpcEndpointType": "Interface"})
    verdicts = validate(REQUIRED_VPC_ENDPOINTS, stack.views)
    assert verdicts.violations == []
    assert verdicts.not_applicable == ["aws:ec2/vpcEndpoint:VpcEndpoint 'stray': its VPC cannot be determined during "
                                       "preview (unknown vpcId without a property dependency), so it counts for no "
                                       "VPC; deferred to `pulumi up`"]


def test_an_endpoint_region_that_cannot_be_compared_is_deferred():
    stack = Stack(region="eu-central-1")
    stack.provider_props = {"region": UNKNOWN}
    stack.add("aws:ec2/vpc:Vpc", "main", {"id": "vpc-1"})
    add_endpoints(stack, vpc_id="vpc-1")
    assert "names the VPC's region" in not_judged(REQUIRED_VPC_ENDPOINTS, stack.views)


def test_a_load_balancer_of_unknown_type_is_deferred():
    stack, _ = listener_stack({"type": "forward", "targetGroupArn": "arn:tg"})
    stack.views[0].props["loadBalancerType"] = UNKNOWN
    assert "loadBalancerType is unknown" in not_judged(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views)


def test_an_http_listener_that_cannot_be_tied_to_its_load_balancer_is_deferred():
    stack = Stack()
    stack.add("aws:lb/listener:Listener", "http", {"loadBalancerArn": UNKNOWN, "protocol": "HTTP", "port": 80,
                                                   "defaultActions": [{"type": "forward"}]})
    assert "load balancer cannot be determined" in not_judged(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views)


def test_a_listener_of_unknown_protocol_on_an_https_alb_is_deferred():
    stack, http = listener_stack({"type": "forward", "targetGroupArn": "arn:tg"})
    http.props["protocol"] = UNKNOWN
    assert "protocol is unknown" in not_judged(ALB_HTTP_REDIRECTS_TO_HTTPS, stack.views)
