"""One stack's settings from the project's files, with every rule the program applies before it creates
anything: the stack file over Pulumi.yaml, the catalog, the price data, the rules across stack files.

`load_from_pulumi` (inside Pulumi) and `load_stack` (offline, from the files) end in the same checks, so
a bad file stops both with the same ConfigError.
"""

from __future__ import annotations

from pathlib import Path

from foundation.settings.base import ConfigError
from foundation.settings.catalog import PROJECT_DIR, catalog_file, load_catalog
from foundation.settings.checked_settings import settings_from_config
from foundation.settings.cross_stack import check_across_stacks
from foundation.settings.stack_files import read_project_defaults, read_stack_file
from foundation.settings.stack_settings import PRICES_FILE, StackSettings, eur_to_usd

# AWS Budgets amounts are USD with two decimals; anything that rounds below a cent is no budget.
BUDGET_USD_MIN = 0.01


def prices_file(project_dir: Path) -> Path:
    return project_dir / PRICES_FILE.relative_to(PROJECT_DIR)


def check_project_settings(settings: StackSettings, project_dir: Path = PROJECT_DIR) -> StackSettings:
    """The checks beyond the stack's own keys: price data (read lazily by the budget otherwise) and the
    rules across the project's stack files."""
    rate = eur_to_usd(prices_file(project_dir))
    monthly_eur = settings.config.budget.monthly_eur
    if round(monthly_eur * rate, 2) < BUDGET_USD_MIN:
        raise ConfigError(
            f"stack '{settings.stack}': {settings.project}:budget.monthlyEur = {monthly_eur:g} at "
            f"platform/prices.yaml currency.eurToUsd = {rate:g} is {monthly_eur * rate:.4f} USD, which AWS Budgets "
            f"(whole cents) would round to 0: the rate must be a real USD-per-EUR rate (about 1)")
    check_across_stacks(settings, project_dir)
    return settings


def load_stack(stack: str, project_dir: Path = PROJECT_DIR) -> StackSettings:
    """`stack`'s settings as Pulumi would pass its config, read from the files in `project_dir`."""
    stack_file = read_stack_file(stack, project_dir)
    project = read_project_defaults(project_dir)[0]
    settings = settings_from_config(stack, stack_file.config, load_catalog(catalog_file(project_dir)),
                                    stack_file.secret_keys, project)
    return check_project_settings(settings, project_dir)
