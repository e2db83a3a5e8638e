"""The standby's contract with the primary stack, read through one typed StackReference."""

import pytest

from devkit.mocks import run_program
from foundation.primary_reference import PrimaryReference, PrimaryStackContractError, parse_primary_outputs

PRIMARY_STACK = "acme/microservices-foundation/prod"
AUTH_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:prod/auth/jwt-signing-key-a1B2c3"


def _primary_outputs(**changes):
    outputs = {
        "region": "eu-central-1", "environment": "prod", "role": "primary", "vpcCidr": "10.10.0.0/16",
        "albDnsName": "prod-alb-1234567890.eu-central-1.elb.amazonaws.com", "albZoneId": "Z215JYRZR1TBD5",
        "hostedZoneId": "Z0123456789EXAMPLE", "apiRecordName": "api.example.com",
        "secretArns": {"auth/jwt-signing-key": AUTH_SECRET},
        "repositoryNames": {"auth": "prod/auth", "persona": "prod/persona"},
    }
    outputs.update(changes)
    return {k: v for k, v in outputs.items() if v is not None}


def _read(outputs, expected_environment="prod", extra=lambda primary: {}):
    seen_names = []

    def stack_reference(inputs):
        seen_names.append(inputs["name"])
        return {"outputs": outputs, "name": inputs["name"]}

    def program():
        primary = PrimaryReference(PRIMARY_STACK, expected_environment=expected_environment,
                                   standby_region="eu-west-1")
        return {"region": primary.region, "vpcCidr": primary.vpc_cidr, "albDnsName": primary.alb_dns_name,
                "albZoneId": primary.alb_zone_id, "hostedZoneId": primary.hosted_zone_id,
                "apiRecordName": primary.api_record_name, "secretArns": primary.secret_arns,
                "replicaSecretArns": primary.replica_secret_arns("eu-west-1"),
                "repositoryNames": primary.repository_names, **extra(primary)}

    recorder, result = run_program(program, project="microservices-foundation", stack="prod-euw1",
                                   region="eu-west-1",
                                   remote_outputs={"pulumi:pulumi:StackReference": stack_reference})
    return recorder, result, seen_names


def test_standby_reads_the_primary_outputs_by_their_contract_names_through_one_stack_reference():
    _, result, seen_names = _read(_primary_outputs())

    # A StackReference is read, not registered, so the recorder doesn't list it; the mock saw one read.
    assert seen_names == [PRIMARY_STACK]
    assert result["albDnsName"] == "prod-alb-1234567890.eu-central-1.elb.amazonaws.com"
    assert (result["region"], result["vpcCidr"], result["albZoneId"]) == ("eu-central-1", "10.10.0.0/16",
                                                                          "Z215JYRZR1TBD5")
    assert (result["hostedZoneId"], result["apiRecordName"]) == ("Z0123456789EXAMPLE", "api.example.com")
    assert result["repositoryNames"] == {"auth": "prod/auth", "persona": "prod/persona"}
    assert result["secretArns"] == {"auth/jwt-signing-key": AUTH_SECRET}
    assert result["replicaSecretArns"] == {"auth/jwt-signing-key": AUTH_SECRET.replace("eu-central-1", "eu-west-1")}


def test_a_primary_without_a_domain_leaves_zone_and_record_name_empty():
    _, result, _ = _read(_primary_outputs(hostedZoneId=None, apiRecordName=None))

    assert result["hostedZoneId"] is None and result["apiRecordName"] is None


def test_the_standby_failover_record_requires_the_primary_zone_and_record_name():
    def failover_record(primary):
        zone_id, record_name = primary.require_failover_record()
        return {"failoverZone": zone_id, "failoverName": record_name}

    _, result, _ = _read(_primary_outputs(), extra=failover_record)
    assert (result["failoverZone"], result["failoverName"]) == ("Z0123456789EXAMPLE", "api.example.com")

    with pytest.raises(PrimaryStackContractError, match="exports no 'hostedZoneId' / 'apiRecordName'"):
        _read(_primary_outputs(hostedZoneId=None, apiRecordName=None), extra=failover_record)


def test_missing_output_is_a_clear_error_naming_the_output_and_the_primary_stack():
    with pytest.raises(PrimaryStackContractError) as error:
        _read(_primary_outputs(albDnsName=None))

    assert str(error.value) == (f"primary stack '{PRIMARY_STACK}' does not export what the standby needs: "
                                "output 'albDnsName' is missing")


def test_an_undeployed_primary_reports_every_missing_output_and_suggests_deploying_it_first():
    with pytest.raises(PrimaryStackContractError, match=r"has the primary stack been deployed\?") as error:
        _read({})

    for name in ("region", "environment", "role", "vpcCidr", "albDnsName", "albZoneId", "secretArns",
                 "repositoryNames"):
        assert f"output '{name}' is missing" in str(error.value)


@pytest.mark.parametrize("changes, named", [
    (dict(vpcCidr="10.10.0.0/33"), "output 'vpcCidr' is malformed"),
    (dict(albZoneId=42), "output 'albZoneId' is malformed"),
    (dict(role="standby"), "output 'role' is malformed"),
    (dict(secretArns={"auth/jwt-signing-key": "prod/auth/jwt-signing-key"}), "output 'secretArns' is malformed"),
    (dict(secretArns={"jwt-signing-key": AUTH_SECRET}), "output 'secretArns' is malformed"),
    (dict(repositoryNames=["prod/auth"]), "output 'repositoryNames' is malformed"),
    (dict(apiRecordName=None), "hostedZoneId and apiRecordName must be exported together"),
    (dict(repositoryNames={"auth": "staging/auth"}), "repositoryNames['auth'] is 'staging/auth'"),
])
def test_malformed_output_is_a_clear_error_naming_the_output_and_the_primary_stack(changes, named):
    with pytest.raises(PrimaryStackContractError, match=PRIMARY_STACK) as error:
        _read(_primary_outputs(**changes))

    assert named in str(error.value)


def test_a_primary_of_another_environment_or_in_the_standby_region_is_refused():
    with pytest.raises(PrimaryStackContractError, match="output 'environment' is 'prod', the standby is 'staging'"):
        _read(_primary_outputs(), expected_environment="staging")
    with pytest.raises(PrimaryStackContractError, match="output 'region' is 'eu-west-1', the standby's own region"):
        _read(_primary_outputs(region="eu-west-1", secretArns={}))


def test_primary_stack_name_must_be_fully_qualified():
    with pytest.raises(PrimaryStackContractError, match="organization>/<project>/<stack>"):
        PrimaryReference("prod", expected_environment="prod")


def test_a_primary_whose_vpc_overlaps_the_standbys_is_refused():
    with pytest.raises(PrimaryStackContractError, match=r"'vpcCidr' 10.10.0.0/16 overlaps the standby's VPC 10.10.128.0/17"):
        parse_primary_outputs(_primary_outputs(), PRIMARY_STACK, expected_environment="prod",
                              standby_vpc_cidr="10.10.128.0/17")


def test_a_primary_that_exports_no_secret_a_standby_service_reads_is_refused():
    with pytest.raises(PrimaryStackContractError, match=r"'secretArns' has no \['billing/payment-key'\]"):
        parse_primary_outputs(_primary_outputs(), PRIMARY_STACK, expected_environment="prod",
                              required_secrets=["billing/payment-key", "auth/jwt-signing-key"])


def test_every_read_of_one_primary_output_shares_one_output_and_none_lifts_the_whole_document(monkeypatch):
    import pulumi

    from foundation.data_stack import _primary_entry

    lifted_documents = []
    original = pulumi.Output.from_input

    def counted(value):
        if isinstance(value, dict) and isinstance(value.get("repositoryNames"), dict):  # the primary's document
            lifted_documents.append(value)
        return original(value)

    monkeypatch.setattr(pulumi.Output, "from_input", staticmethod(counted))
    tables = {service: {"name": f"prod-{service}", "replicaKeyArn": f"arn:aws:kms:eu-west-1:123456789012:key/{service}"}
              for service in ("auth", "persona", "orders")}
    shared = []
    _, result, _ = _read(_primary_outputs(dataTables=tables), extra=lambda primary: {
        "entries": [_primary_entry(primary, "dataTables", service, field)
                    for service in tables for field in ("name", "replicaKeyArn")],
        "shared": shared.append(primary.require_output("dataTables") is primary.require_output("dataTables"))})

    assert shared == [True]
    assert lifted_documents == []
    assert result["entries"] == [tables[service][field] for service in tables for field in ("name", "replicaKeyArn")]


def test_a_primary_output_reads_as_the_sdks_stack_reference_reads_it_value_and_secretness():
    """Same value (None or KeyError for a missing name), same resource, secret exactly when the primary
    lists the output as secret, as `StackReference.require_output`/`get_output` give."""
    import asyncio

    import pulumi

    seen = {}

    def stack_reference(inputs):
        return {"outputs": _primary_outputs(), "name": inputs["name"], "secretOutputNames": ["secretArns"]}

    def program():
        primary = PrimaryReference(PRIMARY_STACK, expected_environment="prod", standby_region="eu-west-1")
        reference = primary.stack_reference

        async def read(key, output):
            value = await output.future()
            resources = [await r.urn.future() for r in await output.resources()]
            seen[key] = (value, await output.is_secret(), resources)

        reads = []
        for name in ("secretArns", "albDnsName"):
            reads += [read(("ours", "require", name), primary.require_output(name)),
                      read(("sdk", "require", name), reference.require_output(name))]
        for name in ("secretArns", "missing"):
            reads += [read(("ours", "get", name), primary.get_output(name)),
                      read(("sdk", "get", name), reference.get_output(name))]
        return {"done": pulumi.Output.from_input(asyncio.gather(*reads))}

    run_program(program, project="microservices-foundation", stack="prod-euw1", region="eu-west-1",
                remote_outputs={"pulumi:pulumi:StackReference": stack_reference})
    keys = {key[1:] for key in seen}
    assert len(keys) == 4
    for key in keys:
        assert seen[("ours", *key)] == seen[("sdk", *key)], key
    assert seen[("ours", "require", "secretArns")][1] is True
    assert seen[("ours", "require", "albDnsName")][1] is False
    assert seen[("ours", "get", "missing")][0] is None

    for read_missing in (lambda primary: primary.require_output("missing"),
                         lambda primary: primary.stack_reference.require_output("missing")):
        with pytest.raises(KeyError, match="missing"):
            run_program(lambda read=read_missing: {"missing": read(PrimaryReference(
                PRIMARY_STACK, expected_environment="prod", standby_region="eu-west-1"))},
                project="microservices-foundation", stack="prod-euw1", region="eu-west-1",
                remote_outputs={"pulumi:pulumi:StackReference": stack_reference})
