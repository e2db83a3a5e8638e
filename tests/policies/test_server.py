"""The pack's analyzer service (policies/server.py) answers exactly as pulumi-policy's own service.

Both services run in process, side by side, each with its own instance of the pack's policies plus three
policies that read pulumi-policy's proxies directly (an unknown value read through the proxy, a stack
policy that declares itself not applicable, a remediation-only policy), and are sent the same requests
through the harness's request builders. Every response must be equal, message for message, in order.
"""

from __future__ import annotations

import json

from policy_records import UNKNOWN, StackRecords
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as library

from devkit.harness import PolicyPackAnalyzer, analyze_request, analyze_stack_request
from policies import pack as pack_module
from policies.server import SharedConversionServicer


def _raw_policies() -> list:
    def reads_policy(args, report_violation):
        if "policy" in args.props and args.props["policy"] == "{}":  # raises UnknownValueError when unknown
            report_violation("empty document")

    def counts_parents(args, report_violation):
        parented = [r.urn for r in args.resources if r.parent is not None and r.dependencies]
        report_violation(f"{len(parented)} with parent and dependencies: {parented}")
        args.not_applicable("declared not applicable after reporting")

    return [
        ResourceValidationPolicy(name="test-reads-proxy", description="reads the proxy", validate=reads_policy,
                                 enforcement_level=EnforcementLevel.MANDATORY),
        StackValidationPolicy(name="test-stack-graph", description="reads the graph", validate=counts_parents,
                              enforcement_level=EnforcementLevel.ADVISORY),
        ResourceValidationPolicy(name="test-remediation-only", description="remediates only",
                                 remediate=lambda args: None),
    ]


def _service(kind: type) -> PolicyPackAnalyzer:
    servicer = kind(pack_module.PACK_NAME, "0.0.1", pack_module.build_policies() + _raw_policies(),
                    pack_module.PACK_ENFORCEMENT_LEVEL)

    class InProcess:
        def __getattr__(self, method):
            return lambda request, timeout=None: getattr(servicer, method)(request, None)

    analyzer = PolicyPackAnalyzer(stack="test")
    analyzer._stub = InProcess()
    analyzer.info = analyzer.get_analyzer_info()
    analyzer.configure({"no-wildcard-iam": {"exceptions": [
        {"policy": "no-wildcard-iam", "resource": "*::acknowledged-policy",
         "reason": "acknowledged here to exercise the reporters of acknowledged findings"}]}})
    analyzer.configure_stack(stack="test", project="microservices-foundation", tags={"team": "platform"})
    return analyzer


def _records() -> list[dict]:
    stack = StackRecords()
    vpc = stack.add("aws:ec2/vpc:Vpc", "main", {"cidrBlock": "10.0.0.0/16"}, outputs={"id": "vpc-1"})
    component = stack.component("microservices:test:Service", "svc")
    wildcard = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    stack.add("aws:iam/policy:Policy", "wide-policy", {"policy": wildcard}, parent=component)
    stack.add("aws:iam/policy:Policy", "acknowledged-policy", {"policy": wildcard})
    stack.add("aws:iam/policy:Policy", "later", {"policy": UNKNOWN})
    stack.add("aws:iam/policy:Policy", "empty", {"policy": "{}"})
    stack.add("aws:kms/key:Key", "key", {"enableKeyRotation": False})
    stack.add("aws:ec2/securityGroup:SecurityGroup", "open", {
        "vpcId": UNKNOWN, "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]},
        deps={"vpcId": [vpc]}, parent=component)
    stack.add("aws:cloudwatch/logGroup:LogGroup", "logs", {"retentionInDays": 1})
    return stack.records


def test_the_pack_service_answers_every_request_exactly_as_pulumi_policys_own():
    ours, theirs = _service(SharedConversionServicer), _service(library._PolicyAnalyzerServicer)
    records = _records()
    providers = {r["urn"]: r for r in records if r["type"].startswith("pulumi:providers:")}
    responses = []
    for record in records:
        request = analyze_request(record, providers)
        responses.append(ours.stub.Analyze(request))
        assert responses[-1] == theirs.stub.Analyze(request), record["name"]
    stack_request = analyze_stack_request(records)
    responses.append(ours.stub.AnalyzeStack(stack_request))
    assert responses[-1] == theirs.stub.AnalyzeStack(stack_request)

    # The requests reached every path the service handles: violations, acknowledged findings, unknown
    # values read through the proxy, not-applicable from a resource and from a stack policy.
    messages = [(d.policyName, d.message) for response in responses for d in response.diagnostics]
    not_applicable = {n.policy_name for response in responses for n in response.not_applicable}
    assert {name for name, _ in messages} >= {"no-wildcard-iam", "acknowledged-findings", "test-reads-proxy",
                                               "required-vpc-endpoints", "no-world-open-ingress", "test-stack-graph"}
    assert any("can't be known during preview" in message for _, message in messages)
    assert not_applicable >= {"no-wildcard-iam", "test-stack-graph", "test-remediation-only"}
