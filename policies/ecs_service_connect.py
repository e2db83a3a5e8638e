"""Service Connect traffic is TLS-encrypted in production.

An ``aws:ecs/service:Service`` whose environment tag (own tags merged with the provider's
default tags) is one of ``prodEnvironments`` and whose ``serviceConnectConfiguration`` is
enabled must set, on every ``services[]`` entry (the server side; client-only services have
none), ``tls.issuerCertAuthority.awsPcaAuthorityArn``.

Unknown values: an unknown CA ARN is the ARN of a CA the program creates and counts as present;
an unknown ``enabled`` counts as enabled; an unknown environment tag is not judged at preview.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, NotJudged, PolicySpec, ResourceView
from .values import as_list, effective_tags, get_path, is_set, is_unknown


def check_service_connect_tls(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    tags = effective_tags(resource.props, resource.provider_props)
    if is_unknown(tags):
        raise NotJudged("tags are unknown during preview; judged at update")
    environment = tags.get(str(config["environmentKey"]))
    if is_unknown(environment):
        raise NotJudged("the environment tag is unknown during preview; judged at update")
    if environment not in set(config["prodEnvironments"]):
        return []
    connect = resource.props.get("serviceConnectConfiguration")
    if not isinstance(connect, Mapping) or connect.get("enabled") is False:
        return []
    findings = []
    for index, service in enumerate(as_list(connect.get("services"))):
        arn = get_path(service, "tls", "issuerCertAuthority", "awsPcaAuthorityArn")
        if is_set(arn):
            continue
        port_name = get_path(service, "portName")
        findings.append(Finding(
            f"serviceConnectConfiguration.services[{index}] (portName {port_name!r}) has no "
            f"tls.issuerCertAuthority.awsPcaAuthorityArn in environment '{environment}', so service-to-service "
            "traffic is plain text. Set tls={'issuer_cert_authority': {'aws_pca_authority_arn': <AWS Private CA "
            "tagged AmazonECSManaged=true>}, 'role_arn': <ECS infrastructure role for Service Connect TLS>}."))
    return findings


SERVICE_CONNECT_TLS_PROD = PolicySpec(
    name="service-connect-tls-prod",
    description="In production, every Service Connect service endpoint uses TLS issued by AWS Private CA.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation="Add tls.issuer_cert_authority.aws_pca_authority_arn (and tls.role_arn) to each "
                "service_connect_configuration.services entry.",
    unknowns="Unknown CA ARNs count as present, unknown 'enabled' as enabled; an unknown environment tag is "
             "not judged at preview.",
    check=check_service_connect_tls,
    resource_types=frozenset({"aws:ecs/service:Service"}),
    config={
        "prodEnvironments": {"type": "array", "items": {"type": "string"}, "default": ["prod"],
                             "description": "Environment tag values that require Service Connect TLS."},
        "environmentKey": {"type": "string", "default": "environment",
                           "description": "Tag key holding the environment."},
    },
)
