"""microservices-foundation: the Pulumi program. Settings in, one stack out."""

import pulumi

from foundation.gc_policy import tune_for_registration
from foundation.settings import ConfigError, load_from_pulumi
from foundation.stack import build

try:
    settings = load_from_pulumi()
except ConfigError as error:
    # RunError ends the program with this message only, no traceback.
    raise pulumi.RunError(str(error)) from None

tune_for_registration()  # after the imports, before the first registration (docs/scale.md)
for name, value in build(settings).items():
    if value is not None:
        pulumi.export(name, value)
