"""AWS API payload checks against botocore's service models (structure, types, enums, lengths).

The mock runtime accepts any value; these checks hold the payloads the components send to what the real
CloudWatch, CloudWatch Logs and X-Ray APIs accept. Enums and min/max are checked by
tests.ecs_api.model_violations, which walks any botocore shape.
"""

from __future__ import annotations

import botocore.session
from botocore.validate import ParamValidator

from tests.ecs_api import model_violations

_SESSION = botocore.session.get_session()


def request_problems(service: str, operation: str, request: dict) -> list[str]:
    """Everything `service`'s `operation` would reject in `request` (empty when valid)."""
    shape = _SESSION.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + model_violations(request, shape)
