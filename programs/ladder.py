"""The tier catalogue of TIERS.md: what each step of the ladder is and what it adds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tier:
    level: int
    key: str
    name: str
    scale: str
    summary: str
    adds: tuple[str, ...]
    # Stepping down out of this tier deletes stateful data (TIERS.md, data safety).
    leaving_deletes_data: bool = False


TIERS: tuple[Tier, ...] = (
    Tier(
        0,
        "single-box",
        "Single box",
        "first users",
        "One EC2 instance runs the web server and the database.",
        (
            "VPC with one public subnet, internet gateway and route table",
            "Security group allowing HTTP and HTTPS in",
            "One EC2 instance running web and database",
            "Elastic IP",
        ),
    ),
    Tier(
        1,
        "separate-db",
        "Separate data tier",
        "thousands",
        "The database moves to an Aurora cluster; the box only serves the web.",
        (
            "Private subnets in two availability zones and a DB subnet group",
            "Aurora cluster (MySQL by default, PostgreSQL selectable) with one writer",
            "Master password managed by AWS (for multi-region definitions a secret of its own, "
            "rotated every 30 days by AWS's rotation function for the engine)",
            "The box's databases move into Aurora, and back onto the box on the step down after "
            "a snapshot of the cluster (Systems Manager; dump and load with the engine's own "
            "tools, checked table by table; the web server stops meanwhile, minutes for a "
            "first-users database)",
            "Security group rule: web to database only",
        ),
        leaving_deletes_data=True,
    ),
    Tier(
        2,
        "multi-az",
        "Load balanced, multi-AZ",
        "tens of thousands",
        "An Application Load Balancer spreads traffic over web instances in two AZs.",
        (
            "Public subnets in every availability zone",
            "Application Load Balancer, target group and listener (HTTPS with a certificate)",
            "Two web instances, one per availability zone; the Elastic IP goes",
            "Aurora standby replica in a second availability zone",
        ),
    ),
    Tier(
        3,
        "read-replicas-cdn",
        "Read replicas and edge caching",
        "100k+",
        "Aurora readers take the reads; CloudFront and S3 take the static assets.",
        (
            "Aurora read replicas with replica auto scaling on reader CPU",
            "Private, versioned S3 bucket for static assets",
            "CloudFront distribution with Origin Access Control (S3 and ALB origins)",
            "The load balancer admits only CloudFront (origin-facing prefix list, secret header)",
            "With a hosted zone, the domain through CloudFront (certificate from us-east-1)",
        ),
        leaving_deletes_data=True,
    ),
    Tier(
        4,
        "stateless-web",
        "Stateless web tier",
        "~500k prep",
        "Session state leaves the web servers for DynamoDB and ElastiCache Redis.",
        (
            "DynamoDB session table (on demand, TTL)",
            "ElastiCache Redis replication group (multi-AZ, failover, encryption)",
            "IAM role and instance profile for the web instances",
        ),
        leaving_deletes_data=True,
    ),
    Tier(
        5,
        "auto-scaling",
        "Auto Scaling and monitoring",
        "500k+",
        "An Auto Scaling Group replaces the fixed web instances; alarms watch it all.",
        (
            "Launch template and Auto Scaling Group behind the target group",
            "Target-tracking policy plus step scale-out and scale-in policies with alarms",
            "Optional scheduled actions for business hours",
            "Log group, dashboard and alarms to an SNS topic",
        ),
    ),
    Tier(
        6,
        "service-oriented",
        "Loosely coupled services",
        "1M+",
        "Work moves onto an SQS queue drained by a Lambda worker.",
        (
            "SQS work queue and dead-letter queue with a redrive policy",
            "Lambda worker with role, log group and event source mapping",
            "Alarm on dead-letter queue depth",
        ),
        leaving_deletes_data=True,
    ),
    Tier(
        7,
        "federated",
        "Federation and multi-region",
        "10M",
        "Databases split by function, and a second region behind Route 53.",
        (
            "Extra Aurora clusters per federated database",
            "Secondary region with its own network, load balancer (HTTPS with a hosted zone) "
            "and Auto Scaling Group",
            "The session table replicated to the secondary region (DynamoDB global table)",
            "Aurora Global Database with a secondary cluster (memory-optimised classes only)",
            "The master password's secret replicated to the secondary region",
            "Route 53 latency or failover records when a hosted zone is set",
        ),
        leaving_deletes_data=True,
    ),
)


def tier_by_level(level: int) -> Tier:
    if not 0 <= level < len(TIERS):
        raise ValueError(f"there is no tier {level}; the ladder runs from 0 to {len(TIERS) - 1}")
    return TIERS[level]
