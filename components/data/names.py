"""Names of a service's data and events, and the plain config that tells its application those names.

Pure (no Pulumi): settings, components and the preview share these rules.
"""

from __future__ import annotations

import re

from components.data.spec import DataAndEvents, DynamoDbData, PostgresData, event_source
from components.events.documents import bus_name, subscription_name

# CreateTable TableName: 3-255 of [a-zA-Z0-9_.-]. `<environment>-<service>` always fits (service names are
# at most 32 characters).
TABLE_NAME_MAX = 255


def table_name(environment: str, service: str) -> str:
    name = f"{environment}-{service}"
    if not 3 <= len(name) <= TABLE_NAME_MAX:
        raise ValueError(f"table name {name!r} must be 3-{TABLE_NAME_MAX} characters")
    return name


# DB cluster identifier: 1-63 letters, digits or hyphens, starting with a letter, no "--", no trailing "-".
CLUSTER_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$")


def cluster_identifier(environment: str, service: str) -> str:
    identifier = f"{environment}-{service}"
    if not CLUSTER_IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"DB cluster identifier {identifier!r} must be 1-63 lowercase letters, digits or "
                         "hyphens, start with a letter, and have no '--' or trailing '-'")
    return identifier


def database_user(service: str) -> str:
    """PostgreSQL role the tasks log in as: the service name with '_' (unquoted identifiers have no '-')."""
    return service.replace("-", "_")


# Aurora PostgreSQL's port, which every service database listens on.
POSTGRES_PORT = 5432
# The database host the stack gives the application next to task_config (foundation/stack.py): the Aurora
# global writer endpoint where the database is global (it follows the writer across a failover), else the
# cluster's writer endpoint. AWS adds a random part to both, so it is no name rule of this module.
DATABASE_HOST_KEY = "DATA_DATABASE_HOST"
PLATFORM_CONFIG_KEYS = (DATABASE_HOST_KEY,)


def task_config(environment: str, service: str, spec: DataAndEvents) -> dict[str, str]:
    """What a service's application needs to find its data and events, as plain config (SSM parameters
    injected with valueFrom, like the catalog's `config`). Names only: every one is fixed by the naming
    rules here, in both regions; the database host comes with them as DATABASE_HOST_KEY."""
    config = {}
    if isinstance(spec.data, DynamoDbData):
        config["DATA_TABLE_NAME"] = table_name(environment, service)
    if isinstance(spec.data, PostgresData):
        config |= {"DATA_DATABASE_NAME": spec.data.database_name, "DATA_DATABASE_PORT": str(POSTGRES_PORT),
                   "DATA_DATABASE_USER": database_user(service)}
    if spec.publishes:
        config |= {"EVENTS_BUS_NAME": bus_name(environment), "EVENTS_SOURCE": event_source(service)}
    for subscription in spec.subscribes:
        key = "EVENTS_QUEUE_" + subscription.source.upper().replace("-", "_")
        config[key] = subscription_name(environment, service, subscription.source)
    return config
