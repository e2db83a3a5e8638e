"""The bootstrap stack's validated settings and GitHub's OIDC subject."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalog import GLOBAL_SERVICES_REGION, PLATFORM_REGIONS, REPOSITORY_PATTERN


@dataclass(frozen=True)
class ImagePusher:
    """A service repository whose main branch may push that service's images."""

    repository: str  # owner/name of the service's own repository
    service: str  # catalog name; images go to `<environment>/<service>` in the primary region
    owner_id: int | None = None
    repository_id: int | None = None


@dataclass(frozen=True)
class BootstrapSettings:
    """The bootstrap stack's validated config."""

    account_id: str
    repository: str  # owner/name
    state_bucket_name: str
    backend_region: str
    owner_id: int | None = None
    repository_id: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    image_pushers: tuple[ImagePusher, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        for index, pusher in enumerate(self.image_pushers):
            if not re.fullmatch(REPOSITORY_PATTERN, pusher.repository):
                problems.append(f"imagePushers[{index}].repository must be 'owner/name', got {pusher.repository!r}")
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", pusher.service):
                problems.append(f"imagePushers[{index}].service must be a catalog service name, got {pusher.service!r}")
            if (pusher.owner_id is None) != (pusher.repository_id is None):
                problems.append(f"imagePushers[{index}].ownerId and repositoryId are set together or not at all")
        services = [p.service for p in self.image_pushers]
        if len(services) != len(set(services)):
            problems.append(f"imagePushers names a service twice: {sorted(services)}")
        if not re.fullmatch(r"\d{12}", self.account_id):
            problems.append(f"aws:allowedAccountIds must hold one 12-digit account id, got {self.account_id!r}")
        if not re.fullmatch(REPOSITORY_PATTERN, self.repository):
            problems.append(f"github.repository must be 'owner/name', got {self.repository!r}")
        if (self.owner_id is None) != (self.repository_id is None):
            problems.append("github.ownerId and github.repositoryId are set together or not at all")
        if not re.fullmatch(r"(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", self.state_bucket_name):
            problems.append(f"stateBucketName must be a 3-63 character S3 bucket name of lowercase letters, digits "
                            f"and hyphens, got {self.state_bucket_name!r}")
        if self.backend_region in PLATFORM_REGIONS:
            problems.append(f"aws:region is {self.backend_region}, one of the platform's regions; the state must "
                            "survive the outage of either, so choose another region (e.g. eu-north-1)")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def allowed_regions(self) -> list[str]:
        return sorted({*PLATFORM_REGIONS, GLOBAL_SERVICES_REGION, self.backend_region})

    def oidc_subject(self, context: str) -> str:
        """The `sub` claim GitHub puts in this repository's tokens for `context`."""
        return github_subject(self.repository, context, self.owner_id, self.repository_id)

    @property
    def state_bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.state_bucket_name}"


def github_subject(repository: str, context: str, owner_id: int | None = None,
                   repository_id: int | None = None) -> str:
    """GitHub's `sub` claim; repositories with immutable subjects append the numeric ids to the names."""
    owner, name = repository.split("/")
    if owner_id is not None:
        owner, name = f"{owner}@{owner_id}", f"{name}@{repository_id}"
    return f"repo:{owner}/{name}:{context}"
