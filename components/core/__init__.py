"""What every component shares: the platform contract (PlatformRefs), the closed vocabularies and the AWS limits."""
