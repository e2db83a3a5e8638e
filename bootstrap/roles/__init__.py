"""The bootstrap's roles: what they may do (catalog), the validated settings, the policy documents."""
