"""The program's garbage-collection policy (foundation/gc_policy.py, docs/scale.md)."""

from __future__ import annotations

import gc

from foundation.gc_policy import GEN0_THRESHOLD, tune_for_registration


def test_the_policy_freezes_what_is_imported_and_collects_young_objects_less_often_but_still_collects():
    threshold, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    try:
        tune_for_registration()
        assert gc.get_freeze_count() > frozen_before
        assert gc.get_threshold() == (GEN0_THRESHOLD, *threshold[1:])
        assert gc.isenabled()

        class Cycle:
            pass

        first, second = Cycle(), Cycle()
        first.other, second.other = second, first
        collected_before = sum(stats["collected"] for stats in gc.get_stats())
        del first, second
        gc.collect()
        assert sum(stats["collected"] for stats in gc.get_stats()) >= collected_before + 2
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
