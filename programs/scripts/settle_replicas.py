"""Runs in AWS (an SSM Automation `aws:executeScript` step), before a step down deletes what
holds an Aurora cluster's replicas in place.

Aurora replica auto scaling removes only the readers it created (`application-autoscaling-*`),
and removing the scaling target removes none: so the step waits until they are gone. A step
that deletes the standby first makes the instance Pulumi calls the writer the writer again, so
the deletion is not an unplanned failover. Stdlib and boto3 only: the runtime has nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

AUTOSCALED_PREFIX = "application-autoscaling-"
POLL_SECONDS = 15
# aws:executeScript stops a step at 600 s; the step's maxAttempts runs it again.
POLLS_PER_ATTEMPT = 36


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3  # the Automation runtime has it; Stepladder itself never imports this

    return settle(
        boto3.client("rds"), events["ClusterId"], events.get("WriterId") or "", time.sleep
    )


def settle(
    rds: Any,
    cluster_id: str,
    writer_id: str,
    sleep: Callable[[float], None],
    polls: int = POLLS_PER_ATTEMPT,
) -> dict[str, Any]:
    """Waits until no auto-scaled reader is left and, if `writer_id` is set, that instance is
    the cluster's writer (failing over to it once the cluster is available)."""
    for _ in range(polls):
        cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        members = cluster["DBClusterMembers"]
        autoscaled = [
            m["DBInstanceIdentifier"]
            for m in members
            if m["DBInstanceIdentifier"].startswith(AUTOSCALED_PREFIX)
        ]
        writer = next((m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]), "")
        available = cluster["Status"] == "available"
        if available and not autoscaled and writer_id in ("", writer):
            return {"writer": writer, "replicas": len(members) - 1}
        if available and writer_id not in ("", writer):
            rds.failover_db_cluster(
                DBClusterIdentifier=cluster_id, TargetDBInstanceIdentifier=writer_id
            )
        sleep(POLL_SECONDS)
    raise TimeoutError(
        f"cluster {cluster_id} still has auto-scaled readers or another writer: retrying"
    )
