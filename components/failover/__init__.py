"""Cross-region failover: Route 53 failover records and health checks, ECR replication to the standby."""
