"""The program's garbage-collection policy (measured in docs/scale.md, "Garbage collection").

A program of this size keeps hundreds of thousands of long-lived objects (the provider's classes, every
resource, Output and future), and CPython's cyclic collector walks them again and again while they only
grow. So, once the imports are done and before the first registration: everything imported so far goes to
the permanent generation (`gc.freeze()`: never scanned again, never garbage), and the youngest generation
is collected after GEN0_THRESHOLD new container objects instead of CPython's 700. The collector stays on:
reference cycles made during the run are still collected, so peak memory does not grow (docs/scale.md).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def tune_for_registration() -> None:
    """Apply the policy; call once per process, after the program's imports."""
    gc.collect()  # what the imports left as garbage must not be frozen
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
