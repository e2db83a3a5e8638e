"""ECR registry replication: one owner per account, prefixes covering every environment's repositories."""

import pulumi
import pulumi_aws as aws
import pytest

from components.failover.registry_replication import (
    RegistryReplication,
    RegistryReplicationArgs,
    ReplicationStackFacts,
    replication_problems,
)
from devkit.mocks import ACCOUNT_ID, run_program

SERVICES = ("auth", "persona", "orders")


def _stack(stack, environment, region, role, owner=False, prefixes=(), account=ACCOUNT_ID, services=SERVICES):
    return ReplicationStackFacts(stack=stack, account_id=account, environment=environment, region=region, role=role,
                                 is_replication_owner=owner, repository_prefixes=tuple(prefixes),
                                 repository_names=tuple(f"{environment}/{s}" for s in services))


def _four_stacks(prod_owner=True, prefixes=("staging/", "prod/")):
    return [
        _stack("staging", "staging", "eu-central-1", "primary"),
        _stack("staging-euw1", "staging", "eu-west-1", "standby"),
        _stack("prod", "prod", "eu-central-1", "primary", owner=prod_owner, prefixes=prefixes),
        _stack("prod-euw1", "prod", "eu-west-1", "standby"),
    ]


def test_replication_config_replicates_every_declared_prefix_to_the_standby_region_of_the_same_account():
    def program():
        provider = aws.Provider("euc1", region="eu-central-1")
        replication = RegistryReplication("registry", RegistryReplicationArgs(
            account_id=ACCOUNT_ID, destination_region="eu-west-1", repository_prefixes=("staging/", "prod/")),
            pulumi.ResourceOptions(provider=provider))
        return {"prefixes": replication.repository_prefixes}

    recorder, outputs = run_program(program, project="microservices-foundation", stack="prod", region="eu-central-1")

    configuration = recorder.one("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    assert configuration.provider_region == "eu-central-1"
    assert configuration.parent == recorder.one("microservices:platform:RegistryReplication").urn
    assert configuration.inputs["replicationConfiguration"] == {"rules": [{
        "destinations": [{"region": "eu-west-1", "registryId": ACCOUNT_ID}],
        "repositoryFilters": [{"filter": "staging/", "filterType": "PREFIX_MATCH"},
                              {"filter": "prod/", "filterType": "PREFIX_MATCH"}],
    }]}
    assert outputs == {"prefixes": ["staging/", "prod/"]}


def test_owner_prefixes_covering_all_environments_repositories_give_no_problems():
    assert replication_problems(_four_stacks()) == []


def test_filters_that_miss_one_environment_report_each_uncovered_repository_with_its_stack():
    problems = replication_problems(_four_stacks(prefixes=("prod/",)))

    assert len(problems) == 2  # staging and staging-euw1 both hold staging/* repositories
    assert "'staging/auth', 'staging/persona', 'staging/orders'" in problems[0]
    assert "stack staging " in problems[0] and "stack staging-euw1 " in problems[1]


def test_two_owners_in_one_account_are_detected():
    stacks = _four_stacks()
    stacks[0] = _stack("staging", "staging", "eu-central-1", "primary", owner=True, prefixes=("staging/",))

    [problem] = replication_problems(stacks)

    assert "['prod', 'staging'] all own" in problem and ACCOUNT_ID in problem


def test_an_account_without_an_owner_is_detected_while_other_accounts_are_checked_on_their_own():
    stacks = _four_stacks() + [_stack("sandbox", "sandbox", "eu-central-1", "primary", account="210987654321")]

    [problem] = replication_problems(stacks)

    assert problem.startswith("account 210987654321: no stack owns")


def test_owner_must_be_a_primary_stack_and_declare_valid_prefixes():
    stacks = _four_stacks(prod_owner=False)
    stacks[3] = _stack("prod-euw1", "prod", "eu-west-1", "standby", owner=True, prefixes=("Prod/", "staging/"))

    problems = replication_problems(stacks)

    assert any("owner prod-euw1 has role 'standby'" in p for p in problems)
    assert any("prefix 'Prod/' is not a valid ECR repository filter" in p for p in problems)


@pytest.mark.parametrize("prefixes, message", [
    ((), "no repository prefixes"),
    (("prod/", "prod/"), "duplicate"),
    (tuple(f"svc{i}/" for i in range(101)), "101 prefixes exceed"),
    (("p",), "not a valid ECR repository filter"),
])
def test_args_ecr_would_reject_are_refused(prefixes, message):
    with pytest.raises(ValueError, match=message):
        RegistryReplicationArgs(account_id=ACCOUNT_ID, destination_region="eu-west-1", repository_prefixes=prefixes)
