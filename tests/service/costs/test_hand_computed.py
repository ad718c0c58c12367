"""Each tier's monthly estimate for two definitions, against figures worked out by hand from
the ladder (TIERS.md) and the test prices in conftest.py (730 hours a month):

    t3.micro 7.30, t3.small 14.60, aurora-mysql db.r5.large 182.50,
    aurora-postgresql db.r6g.large 219.00, cache.t4g.small 29.20, ALB 21.90,
    public IPv4 3.65, alarm 0.10, dashboard 3.00, secret 0.40 (each a month).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from tests.helpers import create_environment

# Ireland and Frankfurt, PostgreSQL on db.r6g.large, the default knobs: t3.small web servers,
# 2 zones, web_min 2, 1 reader, 2 cache nodes.
EUROPE = {
    "region": "eu-west-1",
    "secondary_region": "eu-central-1",
    "db_engine": "aurora-postgresql",
    "db_instance_class": "db.r6g.large",
}
EUROPE_BY_HAND = {
    0: "18.25",  # the box 14.60 + its address 3.65
    1: "237.65",  # 18.25 + writer 219.00 + the master password's secret 0.40
    # the box and address go: ALB 21.90 + 2 web 29.20 + writer and standby 438.00 + secret 0.40
    2: "489.50",
    3: "708.90",  # 489.50 + 1 reader 219.00 + the CDN origin's secret 0.40
    4: "767.30",  # 708.90 + 2 cache nodes 58.40
    5: "770.90",  # web servers become an ASG at web_min 2 (29.20 still) + 6 alarms 0.60 + 3.00
    6: "771.00",  # 770.90 + the dead-letter queue's alarm 0.10
    # + Frankfurt: ALB 21.90 + ASG at 2 29.20 + its cluster's instance 219.00 + 2 alarms 0.20
    # + the master password's secret replicated there 0.40
    7: "1041.70",
}

# Virginia and Oregon, MySQL on db.r5.large (a global database refuses burstable classes), turned knobs: t3.micro web servers, 3 zones,
# web_min 3, 2 readers, 3 cache nodes.
VIRGINIA = {
    "region": "us-east-1",
    "secondary_region": "us-west-2",
    "db_instance_class": "db.r5.large",
    "web_instance_type": "t3.micro",
    "availability_zones": 3,
    "web_min": 3,
    "web_max": 6,
    "reader_count": 2,
    "reader_max": 4,
    "cache_node_count": 3,
}
VIRGINIA_BY_HAND = {
    0: "10.95",  # the box 7.30 + its address 3.65
    1: "193.85",  # 10.95 + writer 182.50 + secret 0.40
    2: "409.20",  # ALB 21.90 + one web server per zone 3 x 7.30 + writer, standby 365.00 + 0.40
    3: "774.60",  # 409.20 + 2 readers 365.00 + the CDN origin's secret 0.40
    4: "862.20",  # 774.60 + 3 cache nodes 87.60
    5: "865.80",  # ASG at web_min 3 (21.90, as before) + 6 alarms 0.60 + dashboard 3.00
    6: "865.90",  # + the dead-letter queue's alarm 0.10
    # + Oregon: ALB 21.90 + ASG at 3 21.90 + its cluster's instance 182.50 + 2 alarms 0.20
    # + the master password's secret replicated there 0.40
    7: "1092.80",
}


@pytest.mark.parametrize(
    ("definition", "by_hand"),
    [(EUROPE, EUROPE_BY_HAND), (VIRGINIA, VIRGINIA_BY_HAND)],
    ids=["europe", "virginia"],
)
def test_every_tier_matches_the_figures_worked_out_by_hand(
    fully_priced: TestClient, definition: dict[str, object], by_hand: dict[int, str]
) -> None:
    create_environment(fully_priced, "shop", **definition)

    tiers = fully_priced.get("/api/environments/shop/cost/tiers").json()

    assert all(tier["estimate"] for tier in tiers), [
        (tier["tier"], tier["reason"]) for tier in tiers if tier["reason"]
    ]
    found = {tier["tier"]: Decimal(str(tier["estimate"]["monthly_usd"])) for tier in tiers}
    assert found == {tier: Decimal(figure) for tier, figure in by_hand.items()}
    for tier in tiers:
        estimate = tier["estimate"]
        assert estimate["complete"] and estimate["missing"] == [], tier["tier"]
        assert "read on 2026-11-20" in estimate["label"]
        assert "fixed capacity at the definition's knobs" in estimate["label"]
        assert "no data transfer" in estimate["label"]
