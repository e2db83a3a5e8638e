"""This service against the platform's contract: its published events against the platform's schemas, its
calls against the callees' declared routes (tests/contract_check.py). CI checks out the platform repository
and points PLATFORM_DIR at it; SERVICE defaults to the image workflow's."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from contract_check import call_problems, event_problems

ROOT = Path(__file__).resolve().parent.parent


def _service() -> str:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "image.yml").read_text())
    return os.environ.get("SERVICE") or str(workflow["env"]["SERVICE"])


def _platform() -> Path:
    return Path(os.environ.get("PLATFORM_DIR", ROOT.parent / "microservices-foundation"))


def test_published_events_match_the_platform_schemas() -> None:
    assert event_problems(_service(), _platform(), ROOT / "contract") == []


def test_calls_match_the_callees_declared_routes() -> None:
    assert call_problems(_service(), _platform(), ROOT / "contract") == []
