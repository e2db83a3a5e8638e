"""The catalog's data and events keys: shapes DynamoDB accepts, and subscriptions that can receive something."""

from __future__ import annotations

import botocore.session
import pytest

from components.data.spec import (
    DETAIL_TYPE,
    INDEX_NAME,
    MAX_GLOBAL_INDEXES,
    DataAndEvents,
    DynamoDbData,
    PostgresData,
    event_graph_problems,
    event_source,
)
from foundation.settings import ConfigError


def load_data_and_events(services, where="service catalog services.yaml"):
    """The data/events keys of each entry through the models, then the graph rules across the catalog, as
    the catalog loader applies them: one ConfigError line per problem, each naming its key."""
    from pydantic import ValidationError

    from foundation.settings import ConfigError, format_validation_error

    parsed, lines = {}, []
    for name, entry in services.items():
        own = {k: v for k, v in (entry or {}).items() if k in ("data", "publishes", "subscribes")}
        try:
            parsed[name] = DataAndEvents.model_validate(own)
        except ValidationError as err:
            lines.append(format_validation_error(err, where, prefix=f"services.{name}."))
    if not lines:
        lines = [f"{where}: {problem}" for problem in event_graph_problems(parsed)]
    if lines:
        raise ConfigError("\n".join(lines))
    return parsed


TABLE = {"kind": "dynamodb", "partitionKey": {"name": "pk", "type": "S"}, "sortKey": {"name": "sk"},
         "ttlAttribute": "expiresAt", "outbox": True}


def catalog(**services) -> dict:
    return {name: dict(entry) for name, entry in services.items()}


def test_a_complete_catalog_loads():
    parsed = load_data_and_events(catalog(
        persona={"data": {"kind": "postgres"}},
        upload={"data": TABLE, "publishes": ["UploadCompleted", "UploadFailed"]},
        billing={"subscribes": [{"source": "upload", "detailTypes": ["UploadCompleted"]}]},
        auth={"port": 8080}))
    assert isinstance(parsed["persona"].data, PostgresData)
    assert parsed["upload"].has_outbox
    assert parsed["billing"].subscribes[0].max_receives == 5
    assert parsed["auth"] == DataAndEvents()


def test_subscription_to_an_unpublished_detail_type_names_the_key():
    with pytest.raises(ConfigError) as error:
        load_data_and_events(catalog(
            upload={"data": TABLE, "publishes": ["UploadCompleted"]},
            billing={"subscribes": [{"source": "upload", "detailTypes": ["UploadCompleted", "UploadDeleted"]}]}))
    assert "services.billing.subscribes[0].detailTypes[1] = 'UploadDeleted' is not published by 'upload'" \
        in str(error.value)


def test_subscription_to_an_unknown_service_names_the_key():
    problems = event_graph_problems({"billing": DataAndEvents.model_validate(
        {"subscribes": [{"source": "payments", "detailTypes": ["Paid"]}]})})
    assert problems == ["services.billing.subscribes[0].source = 'payments' is not a catalog service (known: ['billing'])"]


def test_own_events_need_allow_self():
    own = {"publishes": ["Tick"], "subscribes": [{"source": "clock", "detailTypes": ["Tick"]}]}
    problems = event_graph_problems({"clock": DataAndEvents.model_validate(own)})
    assert len(problems) == 1 and problems[0].startswith("services.clock.subscribes[0].source = 'clock' is the service")
    own["subscribes"][0]["allowSelf"] = True
    assert event_graph_problems({"clock": DataAndEvents.model_validate(own)}) == []


@pytest.mark.parametrize("change, message", [
    ({"indexes": [{"name": "ab", "partitionKey": {"name": "x"}}]}, "String should match pattern"),
    ({"indexes": [{"name": "by owner", "partitionKey": {"name": "x"}}]}, "String should match pattern"),
    ({"partitionKey": {"name": "pk", "type": "BOOL"}}, "Input should be 'S', 'N' or 'B'"),
    ({"sortKey": {"name": "k" * 256}}, "at most 255 characters"),
    ({"indexes": [{"name": f"index-{i}", "partitionKey": {"name": "x"}} for i in range(MAX_GLOBAL_INDEXES + 1)]},
     "at most 20 items"),
    ({"indexes": [{"name": "by-sk", "partitionKey": {"name": "sk", "type": "N"}}]}, "declares 'sk' as N"),
    ({"ttlAttribute": "pk"}, "is a key attribute"),
    ({"indexes": [{"name": "inc", "partitionKey": {"name": "x"}, "projection": "INCLUDE"}]}, "nonKeyAttributes"),
])
def test_dynamodb_limits_are_config_errors(change, message):
    with pytest.raises(ConfigError) as error:
        load_data_and_events(catalog(upload={"data": {**TABLE, **change}, "publishes": ["UploadCompleted"]}))
    assert message in str(error.value) and "services.upload.data" in str(error.value)


def test_outbox_without_published_events_is_refused():
    with pytest.raises(ConfigError, match="outbox is true but publishes is empty"):
        load_data_and_events(catalog(upload={"data": TABLE}))


@pytest.mark.parametrize("detail_type, ok", [("UploadCompleted", True), ("a" * 128, True), ("a" * 129, False),
                                             ("Upload Completed", False), ("", False)])
def test_detail_types_fit_eventbridge(detail_type, ok):
    entry = {"publishes": [detail_type]}
    if ok:
        load_data_and_events(catalog(upload=entry))
    else:
        with pytest.raises(ConfigError, match=r"services\.upload\.publishes"):
            load_data_and_events(catalog(upload=entry))


def test_catalog_limits_match_the_dynamodb_model():
    model = botocore.session.get_session().get_service_model("dynamodb")
    index = model.shape_for("IndexName").metadata
    assert f"^[a-zA-Z0-9_.-]{{{index['min']},{index['max']}}}$" == INDEX_NAME
    assert index["pattern"] == "[a-zA-Z0-9_.-]+"
    assert set(model.shape_for("ScalarAttributeType").enum) == {"S", "N", "B"}
    assert model.shape_for("KeySchemaAttributeName").metadata["max"] == 255
    assert DETAIL_TYPE.endswith("{0,127}$")  # 1 leading letter + 127 = the documented 128


def test_attribute_types_cover_table_and_index_keys_once():
    data = DynamoDbData.model_validate({**TABLE, "indexes": [
        {"name": "by-owner", "partitionKey": {"name": "ownerId"}, "sortKey": {"name": "sk"}}]})
    assert data.attribute_types() == {"pk": "S", "sk": "S", "ownerId": "S"}


def test_event_sources_are_never_aws_reserved():
    assert event_source("vc-start") == "microservices.vc-start"
    with pytest.raises(ValueError):
        event_source("Bad Name")


def test_task_config_names_exactly_the_services_table_bus_and_queues():
    from components.data.names import task_config
    spec = DataAndEvents.model_validate({"data": TABLE, "publishes": ["UploadCompleted"],
                                         "subscribes": [{"source": "vc-start", "detailTypes": ["SessionEnded"]}]})

    assert task_config("prod", "upload", spec) == {
        "DATA_TABLE_NAME": "prod-upload", "EVENTS_BUS_NAME": "prod-events", "EVENTS_SOURCE": "microservices.upload",
        "EVENTS_QUEUE_VC_START": "prod-upload-from-vc-start"}
    database = DataAndEvents.model_validate({"data": {"kind": "postgres", "databaseName": "persona"}})
    # The host is no name rule: the stack gives the writer endpoint (DATA_DATABASE_HOST) next to these.
    assert task_config("staging", "persona", database) == {
        "DATA_DATABASE_NAME": "persona", "DATA_DATABASE_PORT": "5432", "DATA_DATABASE_USER": "persona"}


def test_catalog_config_may_not_shadow_a_platform_data_key(tmp_path):
    import json as _json

    from foundation.settings import read_stack_file, settings_from_config
    from foundation.settings.catalog import Catalog

    raw = {"services": {"auth": {"port": 8080, "pathPrefix": "/api/auth", "healthPath": "/health", "cpu": 256,
                                 "memory": 512, "minTasks": 1, "maxTasks": 2, "listenerRulePriority": 100,
                                 "config": {"DATA_TABLE_NAME": "mine"}, "data": TABLE, "publishes": ["Signed"]},
                        "persona": {"port": 8080, "healthPath": "/health", "cpu": 256, "memory": 512,
                                    "minTasks": 1, "maxTasks": 2}}}
    stack = dict(read_stack_file("staging").config)
    stack["microservices-foundation:services"] = _json.dumps(
        {**_json.loads(stack["microservices-foundation:services"]), "enabled": ["auth", "persona"]})
    with pytest.raises(ConfigError, match=r"services\.auth\.config.*DATA_TABLE_NAME.*set by the platform"):
        settings_from_config("staging", stack, Catalog.model_validate(raw))


def test_the_catalog_file_reports_an_unpublished_subscription_by_key(tmp_path):
    import yaml

    from foundation.settings import load_catalog
    from foundation.settings.catalog import CATALOG_FILE

    raw = yaml.safe_load(CATALOG_FILE.read_text())
    raw["services"]["billing"]["subscribes"][0]["detailTypes"] = ["SessionEnded", "SessionPaused"]
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"services\.billing\.subscribes\[0\]\.detailTypes\[1\] = 'SessionPaused'"):
        load_catalog(path)
