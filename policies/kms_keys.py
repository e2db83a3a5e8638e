"""Symmetric KMS keys rotate their key material automatically.

AWS supports automatic rotation only for symmetric encryption keys with AWS-generated material
in the default key store, so keys with another ``customerMasterKeySpec`` or a
``customKeyStoreId`` are not judged.

Unknown values: ``enableKeyRotation`` is a literal in any sane program; unknown is reported as
unverifiable. An unknown key spec is treated as symmetric (the default); an unknown
``customKeyStoreId`` is deferred to ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity

from .framework import Finding, PolicySpec, ResourceView, deferred, require_true
from .values import is_unknown


def check_rotation(resource: ResourceView, config: Mapping[str, Any]) -> list[Finding]:
    spec = resource.props.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    if not is_unknown(spec) and spec != "SYMMETRIC_DEFAULT":
        return []
    key_store = resource.props.get("customKeyStoreId")
    if is_unknown(key_store):
        return [deferred("customKeyStoreId is unknown during preview")]
    if key_store:
        return []
    return require_true("enableKeyRotation", resource.props.get("enableKeyRotation"),
                        " on a symmetric key; its key material never changes. Set enable_key_rotation=True "
                        "(optionally rotation_period_in_days).")


KMS_KEY_ROTATION = PolicySpec(
    name="kms-key-rotation",
    description="Symmetric KMS keys have automatic key rotation enabled.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation="Set enable_key_rotation=True on aws.kms.Key.",
    unknowns="An unknown enableKeyRotation is reported as unverifiable; an unknown key spec counts as symmetric; an "
             "unknown customKeyStoreId is deferred to `pulumi up`.",
    check=check_rotation,
    resource_types=frozenset({"aws:kms/key:Key"}),
)
