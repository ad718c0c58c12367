"""The picture of an environment's architecture, drawn on the server as SVG from its resources.

Layers from users down: CloudFront, load balancer, web (instances or Auto Scaling Group),
sessions (Redis, DynamoDB), Aurora (writer, standby, readers), queue and Lambda, and the
secondary region. Only what the environment actually has is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from db.models import Resource

# Narrow enough to be drawn at its own scale on a 390 px phone (13 px labels stay 13 px), with
# at most two boxes side by side; wider screens show it a little larger (style.css).
WIDTH = 360
BOXES_PER_ROW = 2
ROW = 64
BOX_HEIGHT = 44


@dataclass(frozen=True)
class Box:
    label: str
    detail: str
    kind: str  # css class: edge, web, data, async, region


def layers(resources: Sequence[Resource], environment: str) -> list[list[Box]]:
    by_type: dict[str, list[Resource]] = {}
    for resource in resources:
        by_type.setdefault(resource.type, []).append(resource)

    def count(resource_type: str, *, name_has: str = "", name_lacks: str = "") -> int:
        return sum(
            1
            for r in by_type.get(resource_type, [])
            if name_has in r.name and (not name_lacks or name_lacks not in r.name)
        )

    rows: list[list[Box]] = [[Box("Users", "the internet", "edge")]]
    if count("aws:cloudfront/distribution:Distribution"):
        rows.append([Box("CloudFront", "static assets from S3", "edge")])
    primary = f"{environment}-lb"
    if count("aws:lb/loadBalancer:LoadBalancer", name_has=primary):
        rows.append([Box("Load balancer", "Application LB", "edge")])
    web: list[Box] = []
    groups = count("aws:autoscaling/group:Group", name_has=f"{environment}-web")
    instances = count("aws:ec2/instance:Instance")
    if groups:
        web.append(Box("Auto Scaling Group", "web servers, scaled by policy", "web"))
    elif instances:
        runs_db = count("aws:ec2/eip:Eip") and not count("aws:rds/cluster:Cluster")
        web.append(
            Box(f"Web x{instances}", "web + database" if runs_db else "EC2 instances", "web")
        )
    if web:
        rows.append(web)
    sessions = []
    if count("aws:elasticache/replicationGroup:ReplicationGroup"):
        sessions.append(Box("Redis", "ElastiCache, multi-AZ", "data"))
    if count("aws:dynamodb/table:Table"):
        sessions.append(Box("DynamoDB", "session table", "data"))
    if sessions:
        rows.append(sessions)
    data = []
    aurora = f"{environment}-aurora"
    if count("aws:rds/clusterInstance:ClusterInstance", name_has=f"{aurora}-writer"):
        data.append(Box("Aurora writer", "primary", "data"))
    if count("aws:rds/clusterInstance:ClusterInstance", name_has=f"{aurora}-standby"):
        data.append(Box("Aurora standby", "second AZ", "data"))
    readers = count("aws:rds/clusterInstance:ClusterInstance", name_has=f"{aurora}-reader")
    if readers:
        data.append(Box(f"Readers x{readers}", "auto scaled", "data"))
    federated = count("aws:rds/cluster:Cluster", name_lacks="aurora")
    if federated:
        data.append(Box(f"Federated x{federated}", "clusters by function", "data"))
    if data:
        rows.append(data)
    queue = []
    if count("aws:sqs/queue:Queue"):
        queue.append(Box("SQS queue", "with dead letters", "async"))
    if count("aws:lambda/function:Function"):
        queue.append(Box("Lambda worker", "drains the queue", "async"))
    if queue:
        rows.append(queue)
    regions = {r.inputs.get("region") for r in by_type.get("pulumi:providers:aws", [])}
    if len(regions) > 1:
        rows.append([Box("Secondary region", "VPC, ALB, ASG, Aurora global", "region")])
    return rows


def render_svg(resources: Sequence[Resource], environment: str) -> str:
    rows = [
        layer[start : start + BOXES_PER_ROW]
        for layer in layers(resources, environment)
        for start in range(0, len(layer), BOXES_PER_ROW)
    ]
    height = len(rows) * ROW + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="architecture-title" class="architecture">',
        f'<title id="architecture-title">Architecture of {escape(environment)}: '
        + escape(", ".join(box.label for row in rows for box in row))
        + "</title>",
    ]
    for index, row in enumerate(rows):
        y = 10 + index * ROW
        if index:
            parts.append(
                f'<line x1="{WIDTH // 2}" y1="{y - ROW + BOX_HEIGHT}" x2="{WIDTH // 2}" '
                f'y2="{y}" class="link"/>'
            )
        width = (WIDTH - 20) // len(row) - 10
        for column, box in enumerate(row):
            x = 10 + column * (width + 10)
            middle = x + width // 2
            parts.append(
                f'<g class="box {box.kind}">'
                f'<rect x="{x}" y="{y}" width="{width}" height="{BOX_HEIGHT}" rx="6"/>'
                f'<text x="{middle}" y="{y + 19}" class="label">{escape(box.label)}</text>'
                f'<text x="{middle}" y="{y + 35}" class="detail">{escape(box.detail)}</text>'
                "</g>"
            )
    parts.append("</svg>")
    return "".join(parts)
