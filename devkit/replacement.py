"""Which input properties force AWS to replace a resource, per resource type this program registers.

`pulumi preview` learns this from the provider (its Diff call answers `replaces`); offline there is no
provider plugin and the pulumi_aws Python package ships no schema, so the table is kept here. Each
entry comes from the Terraform AWS provider (which pulumi-aws bridges): the arguments its
documentation marks "Forces new resource" (`SOURCE` + the doc page named in the entry), or, where the
page does not mark them, the `ForceNew` flags of the provider's schema (noted per entry). Property names
are the Pulumi (camelCase) input names. docs/preview-diff.md explains how the table is used and kept.

A type missing here is diffed as an in-place update; `replacement_rules_known()` lets the renderer
say so, rather than silently claiming "update" for a type nobody checked.
"""

from __future__ import annotations

SOURCE = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/"

# type token -> (Terraform doc page, properties whose change replaces the resource)
FORCE_NEW: dict[str, tuple[str, frozenset[str]]] = {
    "aws:appautoscaling/policy:Policy": (
        "appautoscaling_policy", frozenset({"name", "resourceId", "scalableDimension", "serviceNamespace"})),
    "aws:appautoscaling/target:Target": (
        "appautoscaling_target", frozenset({"resourceId", "scalableDimension", "serviceNamespace"})),
    "aws:budgets/budget:Budget": ("budgets_budget", frozenset({"accountId", "name", "namePrefix"})),
    "aws:cloudwatch/logGroup:LogGroup": ("cloudwatch_log_group", frozenset({"name", "namePrefix", "logGroupClass"})),
    # Terraform's alarm_name; the page does not mark it, the provider schema has ForceNew.
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch_metric_alarm", frozenset({"name"})),
    "aws:ec2/internetGateway:InternetGateway": ("internet_gateway", frozenset()),
    "aws:ec2/route:Route": ("route", frozenset({"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock",
                                               "destinationPrefixListId"})),
    "aws:ec2/routeTable:RouteTable": ("route_table", frozenset({"vpcId"})),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("route_table_association",
                                                            frozenset({"subnetId", "gatewayId"})),
    "aws:ec2/securityGroup:SecurityGroup": ("security_group",
                                            frozenset({"name", "namePrefix", "description", "vpcId"})),
    "aws:ec2/subnet:Subnet": ("subnet", frozenset({"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"})),
    "aws:ec2/vpc:Vpc": ("vpc", frozenset({"cidrBlock", "ipv4IpamPoolId"})),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpc_endpoint", frozenset({"vpcId", "serviceName", "vpcEndpointType"})),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("ecr_lifecycle_policy", frozenset({"repository"})),
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": (
        "ecr_pull_through_cache_rule", frozenset({"ecrRepositoryPrefix", "upstreamRegistryUrl"})),
    "aws:ecr/repository:Repository": ("ecr_repository", frozenset({"name", "encryptionConfigurations"})),
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": (
        "ecr_repository_creation_template", frozenset({"prefix"})),
    "aws:ecs/cluster:Cluster": ("ecs_cluster", frozenset({"name"})),
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": (
        "ecs_cluster_capacity_providers", frozenset({"clusterName"})),
    # The ecs_service page does not mark these; they are ForceNew in internal/service/ecs/service.go.
    "aws:ecs/service:Service": ("ecs_service", frozenset({"name", "cluster", "launchType", "schedulingStrategy",
                                                          "iamRole"})),
    # A task definition revision is immutable: every argument but tags registers a new revision.
    "aws:ecs/taskDefinition:TaskDefinition": ("ecs_task_definition", frozenset({
        "containerDefinitions", "family", "cpu", "memory", "networkMode", "requiresCompatibilities",
        "executionRoleArn", "taskRoleArn", "volumes", "runtimePlatform", "ephemeralStorage",
        "proxyConfiguration", "placementConstraints", "ipcMode", "pidMode"})),
    "aws:iam/policy:Policy": ("iam_policy", frozenset({"name", "namePrefix", "path", "description"})),
    "aws:iam/role:Role": ("iam_role", frozenset({"name", "namePrefix", "path"})),
    "aws:iam/rolePolicy:RolePolicy": ("iam_role_policy", frozenset({"name", "namePrefix", "role"})),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam_role_policy_attachment",
                                                          frozenset({"role", "policyArn"})),
    "aws:kms/alias:Alias": ("kms_alias", frozenset({"name", "namePrefix"})),
    "aws:kms/key:Key": ("kms_key", frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"})),
    "aws:lambda/permission:Permission": ("lambda_permission", frozenset({
        "action", "function", "principal", "sourceArn", "sourceAccount", "statementId", "statementIdPrefix",
        "qualifier", "eventSourceToken", "principalOrgId", "functionUrlAuthType"})),
    "aws:lb/listener:Listener": ("lb_listener", frozenset({"loadBalancerArn"})),
    "aws:lb/listenerRule:ListenerRule": ("lb_listener_rule", frozenset({"listenerArn"})),
    "aws:lb/loadBalancer:LoadBalancer": ("lb", frozenset({"name", "namePrefix", "internal", "loadBalancerType"})),
    "aws:lb/targetGroup:TargetGroup": ("lb_target_group", frozenset({
        "name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"})),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": ("lb_target_group_attachment", frozenset({
        "targetGroupArn", "targetId", "port", "availabilityZone"})),
    "aws:route53/healthCheck:HealthCheck": ("route53_health_check", frozenset({"type", "referenceName"})),
    "aws:route53/record:Record": ("route53_record", frozenset({"zoneId"})),
    "aws:s3/bucket:Bucket": ("s3_bucket", frozenset({"bucket", "bucketPrefix"})),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3_bucket_lifecycle_configuration", frozenset({"bucket", "expectedBucketOwner"})),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3_bucket_ownership_controls",
                                                               frozenset({"bucket"})),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3_bucket_policy", frozenset({"bucket"})),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3_bucket_public_access_block",
                                                               frozenset({"bucket"})),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3_bucket_server_side_encryption_configuration", frozenset({"bucket", "expectedBucketOwner"})),
    "aws:secretsmanager/secret:Secret": ("secretsmanager_secret", frozenset({"name", "namePrefix"})),
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": (
        "service_discovery_private_dns_namespace", frozenset({"name", "vpc"})),
    "aws:ssm/parameter:Parameter": ("ssm_parameter", frozenset({"name"})),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("vpc_security_group_egress_rule",
                                                                frozenset({"securityGroupId"})),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("vpc_security_group_ingress_rule",
                                                                  frozenset({"securityGroupId"})),
}


def replacement_rules_known(resource_type: str) -> bool:
    return resource_type in FORCE_NEW


def forces_replacement(resource_type: str, property_path: str) -> bool:
    """Whether changing the property at `property_path` (dotted, top level first) replaces the resource."""
    entry = FORCE_NEW.get(resource_type)
    if entry is None:
        return False
    top = property_path.split(".", 1)[0].split("[", 1)[0]
    return top in entry[1]


def source_of(resource_type: str) -> str | None:
    entry = FORCE_NEW.get(resource_type)
    return SOURCE + entry[0] if entry else None
