"""Resource types that cost nothing by themselves, each with the reason.

The estimator prices every other provider type it knows and reports any type it neither prices nor
finds here as a gap, which the budget guard refuses unless the policy config acknowledges it: a new
type must be priced or declared free here before a stack may use it (docs/cost-model.md).
"""

from __future__ import annotations

_CONFIGURATION = "configuration of another resource; AWS bills the resource, not its settings"
_NETWORK = "VPC plumbing AWS does not bill (traffic through it is billed at the NAT, endpoint or load balancer)"
_IDENTITY = "IAM and resource policies are free"
_ROUTING = "listener, rule and target group configuration is billed through the load balancer's hours and LCUs"
_BILLED_ELSEWHERE = "billed through the resource it belongs to"

FREE_TYPES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": _NETWORK, "aws:ec2/subnet:Subnet": _NETWORK, "aws:ec2/routeTable:RouteTable": _NETWORK,
    "aws:ec2/route:Route": _NETWORK, "aws:ec2/routeTableAssociation:RouteTableAssociation": _NETWORK,
    "aws:ec2/internetGateway:InternetGateway": _NETWORK, "aws:ec2/securityGroup:SecurityGroup": _NETWORK,
    "aws:ec2/securityGroupRule:SecurityGroupRule": _NETWORK,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _NETWORK,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _NETWORK,
    "aws:iam/role:Role": _IDENTITY, "aws:iam/rolePolicy:RolePolicy": _IDENTITY, "aws:iam/policy:Policy": _IDENTITY,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _IDENTITY,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _IDENTITY,
    "aws:lb/listener:Listener": _ROUTING, "aws:lb/listenerRule:ListenerRule": _ROUTING,
    "aws:lb/targetGroup:TargetGroup": _ROUTING, "aws:lb/targetGroupAttachment:TargetGroupAttachment": _ROUTING,
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": _CONFIGURATION,
    "aws:ecs/taskDefinition:TaskDefinition": "billed through the service or target that runs its tasks",
    "aws:appautoscaling/target:Target": "Application Auto Scaling is free; its policies' alarms are priced",
    "aws:kms/alias:Alias": _CONFIGURATION,
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _CONFIGURATION,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _CONFIGURATION,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _CONFIGURATION,
    "aws:s3/bucketPolicy:BucketPolicy": _IDENTITY,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _CONFIGURATION,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _CONFIGURATION,
    "aws:s3/bucketVersioning:BucketVersioning": _CONFIGURATION,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _CONFIGURATION,
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": "cached images are billed as repository storage",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": _CONFIGURATION,
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": "replicas are billed as repository storage",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": _IDENTITY,
    "aws:acm/certificate:Certificate": "public ACM certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "a wait for validation, no AWS resource",
    "aws:acmpca/certificate:Certificate": "the CA's own certificate; issued certificates are priced per service",
    "aws:acmpca/certificateAuthorityCertificate:CertificateAuthorityCertificate": _CONFIGURATION,
    "aws:acmpca/permission:Permission": _IDENTITY,
    "aws:route53/record:Record": "records are free; queries to alias records of AWS resources are free",
    "aws:servicediscovery/service:Service": "billed through its namespace's hosted zone",
    "aws:cloudwatch/eventRule:EventRule": "rules are free; events are billed on the bus, tasks on the target",
    "aws:cloudwatch/queryDefinition:QueryDefinition": "saved queries are free; a query bills its scan",
    "aws:sqs/queuePolicy:QueuePolicy": _IDENTITY, "aws:sqs/redrivePolicy:RedrivePolicy": _CONFIGURATION,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": _CONFIGURATION,
    "aws:sns/topicPolicy:TopicPolicy": _IDENTITY,
    "aws:sns/topicSubscription:TopicSubscription": "deliveries are billed as topic publishes",
    "aws:costexplorer/costAllocationTag:CostAllocationTag": "tag activation is free",
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": "Cost Anomaly Detection is free",
    "aws:costexplorer/anomalySubscription:AnomalySubscription": "Cost Anomaly Detection is free",
    "aws:rds/subnetGroup:SubnetGroup": _CONFIGURATION,
    "aws:secretsmanager/secretVersion:SecretVersion": _BILLED_ELSEWHERE + " (the secret)",
    "aws:accessanalyzer/analyzer:Analyzer": "external access analyzers are free",
    "aws:lambda/permission:Permission": _IDENTITY,
}
