"""Typed stack settings: Pulumi config + the service catalog, validated before any resource exists.

Everything the program knows about a stack passes through `StackSettings`. A bad value stops the program
with one `ConfigError` naming the file or key, the value and what is allowed. Three layers validate,
each in one place (docs/validation.md): settings hold product rules, components hold AWS limits (which
settings apply to the config keys), the policy pack holds guardrails for any program in these accounts.

Modules: base (model base, error formatting), yaml_files (strict YAML), catalog (platform/services.yaml),
stack_config (the stack's keys), defaults (per-environment table), stack_settings (resolution),
stack_files (Pulumi.yaml + Pulumi.<stack>.yaml), cross_stack (rules across stack files), project (one stack
from the project's files, every check).
"""

from __future__ import annotations

from pathlib import Path

from foundation.settings.base import ConfigError, format_validation_error
from foundation.settings.catalog import CATALOG_FILE, PROJECT_DIR, Catalog, CatalogService, catalog_file, load_catalog
from foundation.settings.checked_settings import settings_from_config
from foundation.settings.cross_stack import check_across_stacks
from foundation.settings.defaults import ENVIRONMENT_DEFAULTS, EnvironmentDefaults
from foundation.settings.project import check_project_settings, load_stack, prices_file
from foundation.settings.stack_config import StackConfig
from foundation.settings.stack_files import (
    SECRET_MARKER,
    StackFile,
    list_stacks,
    read_project_defaults,
    read_stack_file,
)
from foundation.settings.stack_settings import (
    PRICES_FILE,
    PROJECT,
    StackSettings,
    eur_to_usd,
    resolve_health_check_path,
)

__all__ = [
    "CATALOG_FILE",
    "ENVIRONMENT_DEFAULTS",
    "PRICES_FILE",
    "PROJECT",
    "PROJECT_DIR",
    "SECRET_MARKER",
    "Catalog",
    "CatalogService",
    "ConfigError",
    "EnvironmentDefaults",
    "StackConfig",
    "StackFile",
    "StackSettings",
    "catalog_file",
    "check_across_stacks",
    "check_project_settings",
    "eur_to_usd",
    "format_validation_error",
    "list_stacks",
    "load_catalog",
    "load_from_pulumi",
    "load_stack",
    "prices_file",
    "read_project_defaults",
    "read_stack_file",
    "resolve_health_check_path",
    "settings_from_config",
]


def load_from_pulumi(project_dir: Path = PROJECT_DIR) -> StackSettings:
    """Inside `pulumi up`/`preview` (or the offline preview): read the stack's config through
    `pulumi.Config`, exactly as Pulumi passed it. The full key list comes from the SDK's config store
    so that a misspelled key is reported instead of silently ignored."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.get_config_env()) | set(runtime_config.CONFIG.get())
    raw = {}
    for key in keys:
        namespace, _, name = key.partition(":")
        raw[key] = pulumi.Config(namespace).get(name)
    secret_keys = tuple(sorted(k for k in keys if runtime_config.is_config_secret(k)))
    settings = settings_from_config(pulumi.get_stack(), raw, load_catalog(catalog_file(project_dir)), secret_keys,
                                    pulumi.get_project())
    return check_project_settings(settings, project_dir)
