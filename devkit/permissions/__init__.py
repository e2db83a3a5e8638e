"""The permission closure: what the provider and AWS call for every registered resource, judged against
the roles that deploy and preview each stack (docs/permission-closure.md)."""
