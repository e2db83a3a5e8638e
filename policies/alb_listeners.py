"""An ALB with an HTTPS listener redirects its HTTP listeners to HTTPS.

A stack policy: listeners (``aws:lb/listener:Listener``, ``aws:alb/listener:Listener``) are tied
to their load balancer through ``loadBalancerArn`` (property dependency or the LB's ``arn``/``id``).
On an application load balancer that has an HTTPS listener, every HTTP listener's default
action must be a ``redirect`` with ``protocol`` HTTPS to the port of one of its HTTPS listeners.
The port must be explicit: the default ``#{port}`` would keep the HTTP listener's port. Listener rules
(``aws:lb/listenerRule``) of such an HTTP listener (``listenerArn``) come before its default action, so their
actions must redirect to HTTPS too (or answer with a fixed response).

Unknown values: an unknown default action on an HTTP listener of such an ALB is reported as
unverifiable. Deferred to ``pulumi up``: a load balancer whose type is unknown, an HTTP (or
unknown-protocol) listener whose load balancer cannot be determined, and a listener with an unknown
protocol on an ALB with an HTTPS listener.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred
from .stack_links import refers_to
from .values import as_list, get_path, is_unknown

LOAD_BALANCER_TYPES = {"aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"}
LISTENER_TYPES = {"aws:lb/listener:Listener", "aws:alb/listener:Listener"}
LISTENER_RULE_TYPES = {"aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"}


def is_application_lb(resource: ResourceView) -> bool:
    lb_type = resource.props.get("loadBalancerType") or "application"
    return resource.type in LOAD_BALANCER_TYPES and lb_type == "application"


def _port(value: Any) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _redirects_to_https(listener: ResourceView, https_ports: set[int], prop: str = "defaultActions") -> bool | None:
    """True/False, or None when the actions are unknown. A rule's actions all must be redirects to HTTPS (or a
    fixed response, which serves no content of the services); a listener needs one."""
    actions = listener.props.get(prop)
    if prop == "actions":
        verdicts = [_redirects_to_https(ResourceView(listener.type, listener.name, listener.urn,
                                                     {"defaultActions": [action]}), https_ports)
                    for action in as_list(actions) if not (isinstance(action, Mapping)
                                                           and action.get("type") == "fixed-response")]
        return None if is_unknown(actions) or None in verdicts else all(verdicts)
    if is_unknown(actions):
        return None
    for action in as_list(actions):
        if is_unknown(action):
            return None
        if not isinstance(action, Mapping):
            continue
        if is_unknown(action.get("type")) or is_unknown(get_path(action, "redirect", "protocol")):
            return None
        if action.get("type") != "redirect" or get_path(action, "redirect", "protocol") != "HTTPS":
            continue
        port = get_path(action, "redirect", "port", default="#{port}")
        if is_unknown(port):
            return None
        if _port(port) in https_ports:
            return True
    return False


def check_http_redirects(resources: list[ResourceView], config: Mapping[str, Any]) -> list[Finding]:
    listeners = [r for r in resources if r.type in LISTENER_TYPES]
    load_balancers = [r for r in resources if r.type in LOAD_BALANCER_TYPES]
    findings: list[Finding] = []
    for lb in load_balancers:
        if is_unknown(lb.props.get("loadBalancerType")):
            findings.append(deferred("its loadBalancerType is unknown during preview, so whether it is an application "
                                     "load balancer", urn=lb.urn))
    for listener in listeners:
        protocol = listener.props.get("protocol") or "HTTP"
        if (is_unknown(protocol) or protocol == "HTTP") and \
                not any(refers_to(listener, "loadBalancerArn", lb) for lb in load_balancers):
            findings.append(deferred("its load balancer cannot be determined during preview", urn=listener.urn))
    for lb in (r for r in resources if is_application_lb(r)):
        own = [li for li in listeners if refers_to(li, "loadBalancerArn", lb)]
        https_ports = {p for li in own if li.props.get("protocol") == "HTTPS"
                       for p in [_port(li.props.get("port"))] if p is not None}
        if not https_ports:
            continue
        for listener in own:
            protocol = listener.props.get("protocol") or "HTTP"
            if is_unknown(protocol):
                findings.append(deferred("its protocol is unknown during preview", urn=listener.urn))
                continue
            if protocol != "HTTP":
                continue
            verdict = _redirects_to_https(listener, https_ports)
            if verdict:
                findings.extend(_judge_rules(listener, lb, https_ports, resources))
                continue
            state = "unknown during preview" if verdict is None else "not a redirect to HTTPS"
            target_port = 443 if 443 in https_ports else min(https_ports)
            findings.extend(_judge_rules(listener, lb, https_ports, resources))
            findings.append(Finding(
                f"HTTP listener on port {listener.props.get('port')!r} of load balancer '{lb.name}' (which has an "
                f"HTTPS listener) has a default action {state}, so clients can talk plain HTTP. Set "
                f"default_actions=[{{'type': 'redirect', 'redirect': {{'protocol': 'HTTPS', 'port': "
                f"'{target_port}', 'status_code': 'HTTP_301'}}}}].",
                urn=listener.urn))
    return findings


def _judge_rules(listener: ResourceView, lb: ResourceView, https_ports: set[int],
                 resources: list[ResourceView]) -> list[Finding]:
    """Listener rules of an HTTP listener take precedence over its default action: they must redirect too."""
    findings: list[Finding] = []
    for rule in (r for r in resources if r.type in LISTENER_RULE_TYPES and refers_to(r, "listenerArn", listener)):
        verdict = _redirects_to_https(rule, https_ports, prop="actions")
        if verdict:
            continue
        state = "unknown during preview" if verdict is None else "not a redirect to HTTPS"
        findings.append(Finding(
            f"listener rule of the HTTP listener on port {listener.props.get('port')!r} of load balancer '{lb.name}' "
            f"has an action {state} (e.g. forward), so the requests it matches are served over plain HTTP. Attach "
            "the rule to the HTTPS listener, or make its action a redirect to HTTPS.", urn=rule.urn))
    return findings


ALB_HTTP_REDIRECTS_TO_HTTPS = PolicySpec(
    name="alb-http-redirects-to-https",
    description="On an application load balancer with an HTTPS listener, HTTP listeners and their listener rules only "
                "redirect to HTTPS.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Make the HTTP listener's default action a redirect to HTTPS (port of the HTTPS listener, HTTP_301).",
    unknowns="An unknown default action is reported as unverifiable; an unknown LB type, listener protocol or "
             "listener-to-LB link is deferred to `pulumi up`.",
    check=check_http_redirects,
    stack=True,
)
