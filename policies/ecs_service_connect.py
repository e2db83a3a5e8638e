"""Service Connect traffic is TLS-encrypted in production.

An ``aws:ecs/service:Service`` deployed by a production stack (the stack name mapped through the
``stackEnvironments`` knob, see ``environments.py``; a resource's own tags do not count) whose
``serviceConnectConfiguration`` is enabled must set, on every ``services[]`` entry (the server side;
client-only services have none), ``tls.issuerCertAuthority.awsPcaAuthorityArn``. A stack the map
does not name is held to production's rules, so renaming a stack cannot drop TLS.

Unknown values: an unknown ``enabled`` counts as enabled; an unknown CA ARN (the ARN of a CA the program
creates) is set, and whether it names a CA is deferred to ``pulumi up``; an unknown
``serviceConnectConfiguration`` or ``services`` list is deferred to ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .environments import STACK_ENVIRONMENTS_KNOB, environment_of, stack_of
from .framework import Finding, PolicySpec, ResourceView, deferred
from .values import as_list, get_path, is_set, is_unknown


def check_service_connect_tls(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    environment = environment_of(resource.urn, config["stackEnvironments"])
    if environment is not None and environment not in set(config["prodEnvironments"]):
        return []
    where = f"environment '{environment}'" if environment is not None else \
        f"stack '{stack_of(resource.urn)}' (no stackEnvironments entry, so held to production's rules)"
    connect = resource.props.get("serviceConnectConfiguration")
    if is_unknown(connect) or is_unknown(get_path(connect, "services")):
        return [deferred("serviceConnectConfiguration is unknown during preview")]
    if not isinstance(connect, Mapping) or connect.get("enabled") is False:
        return []
    findings = []
    for index, service in enumerate(as_list(connect.get("services"))):
        arn = get_path(service, "tls", "issuerCertAuthority", "awsPcaAuthorityArn")
        if is_unknown(service) or is_unknown(arn):
            findings.append(deferred(f"serviceConnectConfiguration.services[{index}] TLS CA is unknown during preview"))
            continue
        if is_set(arn):
            continue
        port_name = get_path(service, "portName")
        findings.append(Finding(
            f"serviceConnectConfiguration.services[{index}] (portName {port_name!r}) has no "
            f"tls.issuerCertAuthority.awsPcaAuthorityArn in {where}, so service-to-service "
            "traffic is plain text. Set tls={'issuer_cert_authority': {'aws_pca_authority_arn': <AWS Private CA "
            "tagged AmazonECSManaged=true>}, 'role_arn': <ECS infrastructure role for Service Connect TLS>}."))
    return findings


SERVICE_CONNECT_TLS_PROD = PolicySpec(
    name="service-connect-tls-prod",
    description="In production (by stack, not by tag), every Service Connect service endpoint uses TLS issued by "
                "AWS Private CA.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Add tls.issuer_cert_authority.aws_pca_authority_arn (and tls.role_arn) to each "
                "service_connect_configuration.services entry.",
    unknowns="Unknown 'enabled' counts as enabled; an unknown configuration, services list or CA ARN is deferred to "
             "`pulumi up`.",
    check=check_service_connect_tls,
    resource_types=frozenset({"aws:ecs/service:Service"}),
    config={
        "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                             "description": "Environments that require Service Connect TLS."},
        "stackEnvironments": STACK_ENVIRONMENTS_KNOB,
    },
)
