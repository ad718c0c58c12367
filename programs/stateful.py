"""Which resource types hold data: these must never be replaced by a step of the ladder."""

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "aws:rds/cluster:Cluster",
        "aws:rds/globalCluster:GlobalCluster",
        "aws:dynamodb/table:Table",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:sqs/queue:Queue",
    }
)


def is_stateful(resource_type: str) -> bool:
    return resource_type in STATEFUL_TYPES
