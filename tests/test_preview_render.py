"""The preview's text and JSON views agree, and state an RTO only where DNS failover exists."""

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


def test_the_rto_is_stated_only_for_stacks_with_dns_failover(staging, prod):
    assert failover_lines(staging) == ["no DNS failover (no dns.domain configured), so no RTO applies"]
    assert any(line.startswith("RTO implied by the wiring: detection 30 s") for line in failover_lines(prod))
