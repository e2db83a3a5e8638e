"""The policy pack floor of scripts/bench_preview.py: the project's pack with checks that do nothing.

Same policies as ``policies/`` (names, resource or stack kind, enforcement levels, config schemas, order),
started the same way (``python -u -m pulumi.policy <engine> <packDir>``) and served by the same analyzer
service (``policies/server.py``: one conversion of each request's properties, shared by the policies), so
the engine sends it the same requests over the same gRPC path. What it costs is what any pack of this
size costs before its policies look at a resource: the difference to the real pack is the policies' own
work. Not a pack to publish: it imports the project's ``policies`` package from the checkout it lives in.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy

from policies import pack, server


def _nothing(_args, _report_violation) -> None:
    return None


def _twin(policy):
    kind = StackValidationPolicy if isinstance(policy, StackValidationPolicy) else ResourceValidationPolicy
    return kind(name=policy.name, description=policy.description, validate=_nothing,
                enforcement_level=policy.enforcement_level, config_schema=policy.config_schema,
                severity=policy.severity, remediation_steps=policy.remediation_steps)


if __name__ == "__main__":
    server.install()
    PolicyPack(name=f"{pack.PACK_NAME}-noop", description="The project's policies, doing nothing.",
               enforcement_level=pack.PACK_ENFORCEMENT_LEVEL,
               policies=[_twin(policy) for policy in pack.build_policies()])
