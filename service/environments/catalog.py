"""What AWS offers that a definition may name: regions and instance families."""

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

AWS_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
        "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1",
        "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
        "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    }
)  # fmt: skip

_SIZES = r"(nano|micro|small|medium|large|xlarge|[1-9][0-9]?xlarge|metal)"

WEB_INSTANCE_FAMILIES = (
    "t3", "t3a", "t4g", "m5", "m5a", "m6a", "m6g", "m6i", "m7a", "m7g", "m7i", "m8g",
    "c5", "c6a", "c6g", "c6i", "c7a", "c7g", "c7i", "c8g", "r5", "r6g", "r6i", "r7g", "r7i",
)  # fmt: skip
# Aurora offers its burstable classes only as medium and large, the others from large up.
BURSTABLE_DB_FAMILIES = ("t3", "t4g")
MEMORY_OPTIMISED_DB_FAMILIES = ("r5", "r6g", "r6i", "r7g", "r7i", "r8g", "x2g")
DB_INSTANCE_FAMILIES = BURSTABLE_DB_FAMILIES + MEMORY_OPTIMISED_DB_FAMILIES
CACHE_NODE_FAMILIES = ("t3", "t4g", "m5", "m6g", "m7g", "r5", "r6g", "r7g")

WEB_INSTANCE_TYPE = re.compile(rf"^({'|'.join(WEB_INSTANCE_FAMILIES)})\.{_SIZES}$")
BURSTABLE_DB_CLASS = re.compile(rf"^db\.({'|'.join(BURSTABLE_DB_FAMILIES)})\.(medium|large)$")
MEMORY_OPTIMISED_DB_CLASS = re.compile(
    rf"^db\.({'|'.join(MEMORY_OPTIMISED_DB_FAMILIES)})\.(large|xlarge|[1-9][0-9]?xlarge)$"
)
CACHE_NODE_TYPE = re.compile(rf"^cache\.({'|'.join(CACHE_NODE_FAMILIES)})\.{_SIZES}$")

DB_ENGINES = ("aurora-mysql", "aurora-postgresql")

MAX_ENVIRONMENT_NAME = 40
# No `--`: the name leads RDS and ElastiCache identifiers, which refuse it.
ENVIRONMENT_NAME = re.compile(rf"^(?!.*--)[a-z][a-z0-9-]{{1,{MAX_ENVIRONMENT_NAME - 2}}}[a-z0-9]$")
# A federated database names an Aurora cluster, so it follows RDS identifier rules.
DATABASE_NAME = re.compile(r"^(?=.{1,30}$)[a-z](-?[a-z0-9])*$")
# `aurora` would name the same component as the environment's main cluster.
RESERVED_DATABASE_NAMES = frozenset({"aurora"})
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Days as an Auto Scaling recurrence (cron) day-of-week field: MON-FRI, SAT,SUN, 1-5, *.
WEEKDAYS = re.compile(
    r"^(\*|((MON|TUE|WED|THU|FRI|SAT|SUN|[0-6])(-(MON|TUE|WED|THU|FRI|SAT|SUN|[0-6]))?)"
    r"(,((MON|TUE|WED|THU|FRI|SAT|SUN|[0-6])(-(MON|TUE|WED|THU|FRI|SAT|SUN|[0-6]))?))*)$"
)
# An IAM role in any partition: arn:aws:iam::<12-digit account>:role/<optional path/><name>.
ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
CERTIFICATE_ARN = re.compile(r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")


def time_zone(value: str) -> str:
    """`value` when it names an IANA time zone; otherwise a refusal a person can act on."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{value}' is not an IANA time zone (for example Europe/Berlin)"
        ) from None
    return value
