"""A structural validator for CloudWatch dashboard bodies, written from AWS's "Dashboard Body Structure
and Syntax" (CloudWatch API reference, CloudWatch-Dashboard-Body-Structure.html).

What the page states and this checks:
* Overall: a JSON object; `widgets` required, 0-500 widget objects; optional `start`, `end`,
  `periodOverride` (`auto` | `inherit`), `variables`.
* Widget: `type` one of metric, text, log, alarm, explorer (and custom, not used here); `x` 0-23, `y` >= 0,
  `width` 1-24 and `height` 1-1000 on the 24-column grid (so x + width <= 24); `properties` required.
* Metric widget: `metrics` (array of metric rows) and `region` required; `view` timeSeries | singleValue |
  gauge | bar | pie | table; `stat` a statistic or percentile; `period` seconds (>= 1); `stacked` bool;
  `annotations.horizontal` items with `value`.
* Metric row: `[Namespace, MetricName, DimensionName, DimensionValue, ..., {rendering properties}]`
  (strings in name/value pairs, an optional trailing object), or `[{"expression": ...}]`; rendering keys:
  accountId, color, expression, id, label, period, region, stat, visible, yAxis.
  Ids of rows must be unique and start with a lowercase letter.
* Log widget: `query` (starting with `SOURCE '<log group>'`) and `region` required; `view` table |
  timeSeries | bar | pie.
* Text widget: `markdown` required. Alarm widget: `alarms` (array of alarm ARNs) required.
Not from the page but from the grid's meaning: widgets must not overlap.
"""

from __future__ import annotations

import re
from typing import Any

WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}
METRIC_VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
LOG_VIEWS = {"table", "timeSeries", "bar", "pie"}
ROW_OPTIONS = {"accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis"}
STATISTIC = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?|p100)$")
ROW_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ALARM_ARN = re.compile(r"^arn:aws[a-z-]*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$")


def body_problems(body: Any) -> list[str]:
    """Everything the documented structure forbids in `body` (empty when it is well-formed)."""
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        return ["the body must be an object with a widgets array"]
    problems = [f"unknown top-level key {key!r}" for key in body
                if key not in {"widgets", "start", "end", "periodOverride", "variables"}]
    if body.get("periodOverride", "auto") not in ("auto", "inherit"):
        problems.append("periodOverride must be auto or inherit")
    widgets = body["widgets"]
    if len(widgets) > 500:
        problems.append("more than 500 widgets")
    cells: dict[tuple[int, int], int] = {}
    for index, widget in enumerate(widgets):
        where = f"widgets[{index}]"
        problems += _widget_problems(widget, where)
        if all(isinstance(widget.get(k), int) for k in ("x", "y", "width", "height")):
            for column in range(widget["x"], widget["x"] + widget["width"]):
                for row in range(widget["y"], widget["y"] + widget["height"]):
                    if (column, row) in cells:
                        problems.append(f"{where} overlaps widgets[{cells[(column, row)]}]")
                        break
                    cells[(column, row)] = index
                else:
                    continue
                break
    return problems


def _widget_problems(widget: Any, where: str) -> list[str]:
    if not isinstance(widget, dict):
        return [f"{where} is not an object"]
    problems = []
    if widget.get("type") not in WIDGET_TYPES:
        problems.append(f"{where}.type {widget.get('type')!r} not in {sorted(WIDGET_TYPES)}")
    x, y, width, height = (widget.get(k) for k in ("x", "y", "width", "height"))
    if not (isinstance(width, int) and 1 <= width <= 24):
        problems.append(f"{where}.width {width!r} outside 1-24")
    if not (isinstance(height, int) and 1 <= height <= 1000):
        problems.append(f"{where}.height {height!r} outside 1-1000")
    if not (isinstance(x, int) and 0 <= x <= 23) or not (isinstance(y, int) and y >= 0):
        problems.append(f"{where}: x must be 0-23 and y >= 0, got {x!r}, {y!r}")
    elif isinstance(width, int) and x + width > 24:
        problems.append(f"{where}: x + width = {x + width} exceeds the 24-column grid")
    properties = widget.get("properties")
    if not isinstance(properties, dict):
        return problems + [f"{where}.properties is required"]
    checker = {"metric": _metric_problems, "log": _log_problems, "text": _text_problems,
               "alarm": _alarm_problems}.get(widget.get("type"))
    return problems + (checker(properties, f"{where}.properties") if checker else [])


def _metric_problems(properties: dict, where: str) -> list[str]:
    problems = []
    if not REGION.match(str(properties.get("region", ""))):
        problems.append(f"{where}.region is required, got {properties.get('region')!r}")
    if properties.get("view", "timeSeries") not in METRIC_VIEWS:
        problems.append(f"{where}.view {properties.get('view')!r} not in {sorted(METRIC_VIEWS)}")
    if "stat" in properties and not STATISTIC.match(str(properties["stat"])):
        problems.append(f"{where}.stat {properties['stat']!r} is not a statistic")
    if "period" in properties and not (isinstance(properties["period"], int) and properties["period"] >= 1):
        problems.append(f"{where}.period must be a positive number of seconds")
    if not isinstance(properties.get("stacked", False), bool):
        problems.append(f"{where}.stacked must be a boolean")
    for line in properties.get("annotations", {}).get("horizontal", []):
        if not isinstance(line.get("value"), (int, float)):
            problems.append(f"{where}.annotations.horizontal needs numeric values")
    rows = properties.get("metrics")
    if not isinstance(rows, list) or not rows:
        return problems + [f"{where}.metrics is required (an array of metric rows)"]
    ids = []
    for number, row in enumerate(rows):
        problems += _row_problems(row, f"{where}.metrics[{number}]")
        if isinstance(row, list) and row and isinstance(row[-1], dict) and "id" in row[-1]:
            ids.append(row[-1]["id"])
    if len(ids) != len(set(ids)):
        problems.append(f"{where}: duplicate metric ids {ids}")
    return problems


def _row_problems(row: Any, where: str) -> list[str]:
    if not isinstance(row, list) or not row:
        return [f"{where} must be a non-empty array"]
    options = row[-1] if isinstance(row[-1], dict) else {}
    names = row[:-1] if options else row
    problems = [f"{where}: unknown rendering property {key!r}" for key in options if key not in ROW_OPTIONS]
    if "id" in options and not ROW_ID.match(str(options["id"])):
        problems.append(f"{where}: id {options['id']!r} must start with a lowercase letter")
    if "stat" in options and not STATISTIC.match(str(options["stat"])):
        problems.append(f"{where}: stat {options['stat']!r} is not a statistic")
    if "yAxis" in options and options["yAxis"] not in ("left", "right"):
        problems.append(f"{where}: yAxis must be left or right")
    if "expression" in options:
        if names:
            problems.append(f"{where}: an expression row holds only its options object")
        return problems
    if len(names) < 2 or len(names) % 2 or not all(isinstance(n, str) and n for n in names):
        problems.append(f"{where} must be [Namespace, MetricName, DimName, DimValue, ..., {{options}}] of "
                        f"non-empty strings, got {names!r}")
    return problems


def _log_problems(properties: dict, where: str) -> list[str]:
    problems = []
    if not REGION.match(str(properties.get("region", ""))):
        problems.append(f"{where}.region is required")
    if not str(properties.get("query", "")).startswith("SOURCE '"):
        problems.append(f"{where}.query must start with SOURCE '<log group>'")
    if properties.get("view", "table") not in LOG_VIEWS:
        problems.append(f"{where}.view {properties.get('view')!r} not in {sorted(LOG_VIEWS)}")
    return problems


def _text_problems(properties: dict, where: str) -> list[str]:
    return [] if isinstance(properties.get("markdown"), str) else [f"{where}.markdown is required"]


def _alarm_problems(properties: dict, where: str) -> list[str]:
    alarms = properties.get("alarms")
    if not isinstance(alarms, list) or not alarms or not all(ALARM_ARN.match(str(a)) for a in alarms):
        return [f"{where}.alarms must be a non-empty array of alarm ARNs"]
    return []
