"""The preview's text and JSON views agree; the DNS RTO only where DNS failover exists, the plan's RTO and RPO always."""

from __future__ import annotations

import re

from devkit.render import failover_lines, preview_document, render_text


def test_text_and_json_state_the_same_resource_count(staging, prod_standby):
    for preview in (staging, prod_standby):
        document = preview_document(preview)
        stated = int(re.search(r"^Resources: (\d+) \((\d+) cloud resources and providers, (\d+) components\)$",
                               render_text(preview), re.M).group(1))
        assert stated == document["counts"]["total"] == len(document["resources"])
        cloud = sum(1 for r in document["resources"] if r["custom"])
        assert (document["counts"]["cloud"], document["counts"]["components"]) == (cloud, stated - cloud)


def test_the_dns_rto_is_stated_only_with_dns_failover_and_the_plans_rto_and_rpo_always(
        staging, prod, prod_standby, minimal_staging_standby):
    without_dns = failover_lines(minimal_staging_standby)
    assert "no DNS failover (no dns.domain configured): clients reach each region by its ALB name" in without_dns
    assert not any(line.startswith("RTO implied by the wiring") for line in without_dns)
    assert any("RTO detection 150 s + scale-up 240 s = 390 s (6.5 min, objective 15 min)" in line
               for line in without_dns)
    # Staging's delegated subdomain: the wiring's RTO and the plan's traffic term.
    staging_lines = failover_lines(staging)
    assert any(line.startswith("RTO implied by the wiring: detection 30 s") for line in staging_lines)
    assert any("RTO detection 150 s + max(scale-up 240 s, database 180 s) + dns 90 s = 480 s" in line
               for line in staging_lines)
    assert any(line.startswith("RTO implied by the wiring: detection 30 s") for line in failover_lines(prod))
    plan_line = next(line for line in failover_lines(prod_standby) if line.startswith("Region switch plan"))
    assert plan_line.startswith("Region switch plan (registered here: prod-region-switch): RTO detection 150 s + "
                                "approval 300 s + stop-outbox 60 s + max(scale-up 240 s, database 180 s, start-outbox 60 s) + "
                                "dns 90 s = 840 s (14.0 min, objective 15 min)")
    assert failover_lines(prod)[-1].startswith("RPO bound: switchover (graceful) 0 s; failover (ungraceful): "
                                               "Aurora <= 60 s")


def test_a_headless_standby_says_a_drill_adds_its_reader_first(staging_standby, prod_standby):
    headless = [line for line in failover_lines(staging_standby) if "are headless" in line]
    assert headless == ["secondary databases ['persona'] are headless (failover.standbyDatabaseReaders 0): before "
                        "executing the plan set it to 1 and `pulumi up` this stack (Aurora promotes a reader, not a "
                        "volume; the RTO above counts from then)"]
    assert not [line for line in failover_lines(prod_standby) if "are headless" in line]
