"""Physical names that fit AWS's length limits for every valid environment name.

Pulumi autonames a resource as its logical name plus `-` and 7 random characters. Where that
would pass a resource type's limit, the resource gets an explicit name instead: a prefix of the
logical name and a stable hash of all of it, so the name never changes between runs and two
logical names never share a physical one. Short names keep their autonames, so environments
deployed before this rule keep their resources.
"""

from __future__ import annotations

import hashlib
import re

AUTONAME_SUFFIX_LENGTH = 8
HASH_LENGTH = 7

# AWS's documented maxima for the names the ladder sets or lets Pulumi generate.
LOAD_BALANCER_NAME_MAX = 32  # ALB and target group names
REPLICATION_GROUP_ID_MAX = 40  # ElastiCache
IAM_ROLE_NAME_MAX = 64
RDS_IDENTIFIER_MAX = 63  # clusters, instances, global clusters
CLUSTER_SNAPSHOT_IDENTIFIER_MAX = 255


def fitted_name(logical_name: str, limit: int) -> str | None:
    """None when Pulumi's autoname of `logical_name` fits `limit`, else an explicit name."""
    if len(logical_name) + AUTONAME_SUFFIX_LENGTH <= limit:
        return None
    return shortened(logical_name, limit)


def exact_name(name: str, limit: int) -> str:
    """`name` itself when it fits `limit`, else a shortened name with a stable hash."""
    return name if len(name) <= limit else shortened(name, limit)


def shortened(name: str, limit: int) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    # Trailing hyphens go, so the joint never makes `--` (RDS and ElastiCache refuse it).
    head = re.sub(r"-+$", "", name[: limit - HASH_LENGTH - 1])
    return f"{head}-{digest}"
