"""Each service's Secrets Manager secrets, created by the primary stack and replicated to the standby region.

Only the secret *containers* live in code: name `<environment>/<service>/<secret-name>`, KMS key, replica,
recovery window. No value is ever written here or kept in Pulumi state. Operators put the values out of
band (`aws secretsmanager put-secret-value --secret-id <ARN> --secret-string file://...` in the primary
region); Secrets Manager then propagates each new version to the replica.

The replica in the standby region has the same ARN as the primary except for the region
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html: "The ARN for a
replicated secret is the same as the primary secret except for the Region"), so the standby computes the
ARNs its tasks read from the primary's exported ARNs with `replica_secret_arn`.

Deleting: a primary secret with replicas can't be deleted until its replicas are removed
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_delete-secret.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws.secretsmanager as secretsmanager

# CreateSecret Name: ASCII letters, digits and /_+=.@- ; at most 512 characters. We use "/" as the
# separator of <environment>/<service>/<secret>, so the parts themselves must not contain it.
_NAME_PART = re.compile(r"^[A-Za-z0-9_+=.@-]+$")
_SECRET_NAME_MAX_LENGTH = 512
# AWS appends "-" + 6 random characters to the name in the ARN; a name that already ends like that makes
# partial-ARN lookups ambiguous, and AWS advises against it.
_LOOKS_LIKE_ARN_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
# DeleteSecret RecoveryWindowInDays is 7-30 (0 means "delete without recovery", which we never want).
RECOVERY_WINDOW_DAYS_MIN, RECOVERY_WINDOW_DAYS_MAX = 7, 30
_SECRET_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):secret:(?P<name>.+)$")


def _parse_secret_arn(arn: str) -> re.Match[str]:
    match = _SECRET_ARN.fullmatch(arn)
    if not match:
        raise ValueError(f"{arn!r} is not a Secrets Manager secret ARN "
                         "(arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>)")
    return match


def secret_arn_region(secret_arn: str) -> str:
    """The region a secret ARN is in; ValueError when it isn't a Secrets Manager secret ARN."""
    return _parse_secret_arn(secret_arn)["region"]


def replica_secret_arn(primary_secret_arn: str, replica_region: str) -> str:
    """The ARN of the replica of `primary_secret_arn` in `replica_region`.

    AWS keeps the name and its random 6-character suffix for replicas; only the region differs.
    """
    match = _parse_secret_arn(primary_secret_arn)
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", replica_region):
        raise ValueError(f"{replica_region!r} is not an AWS region name")
    return (f"arn:{match['partition']}:secretsmanager:{replica_region}:{match['account']}:"
            f"secret:{match['name']}")


def secret_key(service: str, secret_name: str) -> str:
    """How a secret is keyed in the stack output `secretArns`: `<service>/<secret>`."""
    return f"{service}/{secret_name}"


@dataclass(frozen=True)
class ServiceSecretsArgs:
    """environment: first part of every secret name (`prod`, `staging`).
    secret_names_by_service: service -> names of its secrets, e.g. {"auth": ("jwt-signing-key",)}.
    kms_key_id: key (ARN, id or alias) in the primary region that encrypts the secrets.
    replica_region / replica_kms_key_id: the standby region and a key there (ARN or alias); a KMS key is
        regional, so the replica needs its own.
    recovery_window_in_days: how long a deleted secret can still be restored (7-30).
    """

    environment: str
    secret_names_by_service: Mapping[str, tuple[str, ...]]
    kms_key_id: pulumi.Input[str]
    replica_kms_key_id: pulumi.Input[str]
    replica_region: str = "eu-west-1"
    recovery_window_in_days: int = 30
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        parts = [("environment", self.environment)]
        for service, names in self.secret_names_by_service.items():
            parts.append(("service", service))
            parts += [("secret name", n) for n in names]
            if len(set(names)) != len(names):
                problems.append(f"service {service!r} lists a secret name twice: {list(names)}")
        for kind, part in parts:
            if not _NAME_PART.fullmatch(part):
                problems.append(f"{kind} {part!r} may only contain ASCII letters, digits and _+=.@- (no '/')")
        for full_name in self.full_names().values():
            if len(full_name) > _SECRET_NAME_MAX_LENGTH:
                problems.append(f"secret name {full_name!r} is longer than {_SECRET_NAME_MAX_LENGTH} characters")
            if _LOOKS_LIKE_ARN_SUFFIX.search(full_name):
                problems.append(f"secret name {full_name!r} ends with '-' and 6 characters, which AWS reserves "
                                "for the ARN suffix")
        if isinstance(self.replica_kms_key_id, str):
            # Plain key ids are checked here, before any deployment; Outputs when they resolve.
            key_problem = replica_key_problem(self.replica_kms_key_id, self.replica_region)
            if key_problem:
                problems.append(key_problem)
        if not RECOVERY_WINDOW_DAYS_MIN <= self.recovery_window_in_days <= RECOVERY_WINDOW_DAYS_MAX:
            problems.append(f"recovery_window_in_days must be {RECOVERY_WINDOW_DAYS_MIN}-{RECOVERY_WINDOW_DAYS_MAX}, "
                            f"got {self.recovery_window_in_days}")
        if problems:
            raise ValueError("ServiceSecretsArgs: " + "; ".join(problems))

    def full_names(self) -> dict[str, str]:
        """`<service>/<secret>` -> `<environment>/<service>/<secret>`."""
        return {secret_key(service, name): f"{self.environment}/{secret_key(service, name)}"
                for service, names in self.secret_names_by_service.items() for name in names}


class ServiceSecrets(pulumi.ComponentResource):
    """Secrets for every service, each replicated to the standby region. Values are put out of band.

    Output: `secret_arns`, a mapping `<service>/<secret>` -> primary-region ARN (exported as `secretArns`).
    """

    secret_arns: pulumi.Output[dict[str, str]]
    """`<service>/<secret>` -> the secret's ARN in the primary region."""

    def __init__(self, name: str, args: ServiceSecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("microservices:platform:ServiceSecrets", name, None, opts)
        replica_key = pulumi.Output.from_input(args.replica_kms_key_id).apply(
            lambda key: _key_in_region(key, args.replica_region))
        arns: dict[str, pulumi.Output[str]] = {}
        for key, full_name in args.full_names().items():
            secret = secretsmanager.Secret(
                f"{name}-{key.replace('/', '-')}",
                name=full_name,
                description=f"{full_name}: value is put by operators out of band, never by Pulumi",
                kms_key_id=args.kms_key_id,
                recovery_window_in_days=args.recovery_window_in_days,
                replicas=[{"region": args.replica_region, "kms_key_id": replica_key}],
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            arns[key] = secret.arn
        self.secret_arns = pulumi.Output.all(**arns) if arns else pulumi.Output.from_input({})
        self.register_outputs({"secretArns": self.secret_arns})


def replica_key_problem(key_id: str, replica_region: str) -> str | None:
    """Why `key_id` can't encrypt a replica in `replica_region`, or None.

    A key ARN names its region and KMS keys are regional; an alias or key id is resolved by AWS in the
    replica region, so only ARNs can be checked here.
    """
    if key_id.startswith("arn:"):
        key_region = key_id.split(":")[3]
        if key_region != replica_region:
            return (f"replica KMS key {key_id} is in {key_region}, but the replica is in {replica_region}; "
                    "KMS keys are regional")
    return None


def _key_in_region(key_id: str, region: str) -> str:
    problem = replica_key_problem(key_id, region)
    if problem:
        raise ValueError(f"ServiceSecrets: {problem}")
    return key_id
