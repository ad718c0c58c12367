"""Cost estimates against figures computed by hand: the shipped prices for a us-east-1
definition, and an operator's price file for a two-region definition at every tier."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from service.costs.prices import PriceFileInvalid
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS, create_environment, run

HOURS = 730  # AWS's month
# Test prices, round so the sums below can be checked by hand; not AWS's.
OPERATOR_PRICES = {
    "ec2:t3.small": ("hour", "0.02"),
    "rds:aurora-postgresql:db.r6g.large": ("hour", "0.30"),
    "elasticache:cache.t4g.small": ("hour", "0.04"),
    "elb:application": ("hour", "0.03"),
    "cloudwatch:alarm": ("month", "0.10"),
    "cloudwatch:dashboard": ("month", "3.00"),
    "secretsmanager:secret": ("month", "0.40"),
}
TWO_REGIONS = {
    "region": "eu-west-1",
    "secondary_region": "eu-central-1",
    "db_engine": "aurora-postgresql",
    "db_instance_class": "db.r6g.large",
}


def hand(*items: tuple[int, str]) -> Decimal:
    """Count x monthly price, summed: an hourly price times 730, a monthly one as it is."""
    total = Decimal(0)
    for count, key in items:
        per, usd = OPERATOR_PRICES.get(key, ("hour", "0.005"))  # public IPv4: shipped
        total += count * Decimal(usd) * (HOURS if per == "hour" else 1)
    return total.quantize(Decimal("0.01"))


# Each tier of TWO_REGIONS (2 zones, web_min 2, 1 reader, 2 cache nodes), by hand from TIERS.md:
# 0: a box and its address; 1: + writer and the password's secret; 2: the box and address go,
# an ALB and 2 web servers come, + standby; 3: + a reader and the CDN origin's secret;
# 4: + 2 cache nodes; 5: the web servers become an ASG at its minimum 2, + 6 alarms and a
# dashboard; 6: + the DLQ alarm; 7: + the second region's ALB, ASG (2), reader, 2 alarms and
# the password secret's replica.
TIER_2 = [(1, "elb:application"), (2, "ec2:t3.small"), (2, "rds:aurora-postgresql:db.r6g.large"),
          (1, "secretsmanager:secret")]  # fmt: skip
TIER_4 = [*TIER_2, (1, "rds:aurora-postgresql:db.r6g.large"), (1, "secretsmanager:secret"),
          (2, "elasticache:cache.t4g.small")]  # fmt: skip
TIER_6 = [*TIER_4, (7, "cloudwatch:alarm"), (1, "cloudwatch:dashboard")]
EXPECTED = {
    0: hand((1, "ec2:t3.small"), (1, "public-ipv4")),
    1: hand(
        (1, "ec2:t3.small"),
        (1, "public-ipv4"),
        (1, "rds:aurora-postgresql:db.r6g.large"),
        (1, "secretsmanager:secret"),
    ),
    2: hand(*TIER_2),
    3: hand(*TIER_2, (1, "rds:aurora-postgresql:db.r6g.large"), (1, "secretsmanager:secret")),
    4: hand(*TIER_4),
    5: hand(*TIER_4, (6, "cloudwatch:alarm"), (1, "cloudwatch:dashboard")),
    6: hand(*TIER_6),
    7: hand(
        *TIER_6,
        (1, "elb:application"),
        (2, "ec2:t3.small"),
        (1, "rds:aurora-postgresql:db.r6g.large"),
        (2, "cloudwatch:alarm"),
        (1, "secretsmanager:secret"),
    ),
}


def price_file(path: Path) -> Path:
    prices = [
        {"key": key, "region": region, "usd": usd, "per": per, "source": "test fixture",
         "read_on": "2026-11-27"}
        for key, (per, usd) in OPERATOR_PRICES.items()
        for region in ("eu-west-1", "eu-central-1")
    ]  # fmt: skip
    path.write_text(json.dumps({"prices": prices}))
    return path


@pytest.fixture
def priced(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, database_url, price_file=price_file(tmp_path / "p.json"))
    app = create_app(settings, database_url, db_engine=db_engine)
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client


def test_every_tier_of_a_two_region_definition_against_hand_computed_figures(
    priced: TestClient,
) -> None:
    create_environment(priced, "shop", **TWO_REGIONS)

    tiers = priced.get("/api/environments/shop/cost/tiers").json()

    assert {t["tier"]: Decimal(str(t["estimate"]["monthly_usd"])) for t in tiers} == EXPECTED
    assert all(t["estimate"]["complete"] for t in tiers), [t["estimate"]["missing"] for t in tiers]
    seventh = tiers[7]["estimate"]
    assert {line["region"] for line in seventh["lines"]} == {"eu-west-1", "eu-central-1"}
    # The global database's password secret is billed again in the region it is replicated to.
    secrets = {(line["resource"], line["region"]) for line in seventh["lines"]
               if line["key"] == "secretsmanager:secret"}  # fmt: skip
    password = "shop-aurora-master-password"
    assert {(password, "eu-west-1"), (password, "eu-central-1")} <= secrets
    assert "aws:cloudfront/distribution:Distribution shop-edge-cdn" in seventh["usage_priced"]


def test_a_plan_carries_its_cost_difference(priced: TestClient) -> None:
    create_environment(priced, "shop", **TWO_REGIONS)
    assert priced.get("/api/environments/shop/cost").json()["current"] is None
    run(priced, "/api/environments/shop/promote")
    current = priced.get("/api/environments/shop/cost").json()["current"]
    assert Decimal(str(current["monthly_usd"])) == EXPECTED[0]

    plan = priced.get(
        "/api/environments/shop/cost/plan", params={"kind": "set_tier", "target_tier": 4}
    ).json()

    assert (plan["from_tier"], plan["to_tier"], plan["complete"]) == (0, 4, True)
    assert Decimal(str(plan["difference_usd"])) == EXPECTED[4] - EXPECTED[0]
    destroy = priced.get("/api/environments/shop/cost/plan", params={"kind": "destroy"}).json()
    assert Decimal(str(destroy["difference_usd"])) == -EXPECTED[0]
    assert destroy["after"] is None
    wrong = priced.get("/api/environments/shop/cost/plan", params={"kind": "set_tier"})
    assert wrong.status_code == 422
    assert wrong.json()["fields"][0]["field"] == "target_tier"


def test_shipped_prices_say_what_they_lack_and_never_invent_it(client: TestClient) -> None:
    create_environment(client, "shop", region="us-east-1")

    tiers = {t["tier"]: t for t in client.get("/api/environments/shop/cost/tiers").json()}

    # Tier 0 by hand: t3.small at $0.0208 an hour and one public IPv4 at $0.005, 730 hours.
    zero = tiers[0]["estimate"]
    assert Decimal(str(zero["monthly_usd"])) == Decimal("18.83")  # 15.184 + 3.65
    assert zero["complete"] is True
    assert {line["source"] for line in zero["lines"]} == {
        "https://cloud-bench.com/blog/aws-t3-micro-vs-t3-small",
        "https://www.doit.com/aws-public-ipv4-price-increase-the-complete-guide/",
    }
    # Tier 2: the ALB at $0.0225 and two t3.small; Aurora has no shipped price: said, not guessed.
    two = tiers[2]["estimate"]
    assert Decimal(str(two["monthly_usd"])) == Decimal("46.79")  # 16.425 + 2 x 15.184
    assert two["complete"] is False
    assert {item["key"] for item in two["missing"]} >= {"rds:aurora-mysql:db.t4g.medium"}
    assert tiers[7]["estimate"] is None and "out of reach" in tiers[7]["reason"]
    # Another region has none of the regional prices: only the every-region IPv4 is counted.
    create_environment(client, "europe", region="eu-west-1")
    eu_zero = client.get("/api/environments/europe/cost/tiers").json()[0]["estimate"]
    assert Decimal(str(eu_zero["monthly_usd"])) == Decimal("3.65")
    assert [item["key"] for item in eu_zero["missing"]] == ["ec2:t3.small"]


def test_a_broken_price_file_stops_the_start_naming_the_problem(
    tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    broken = tmp_path / "prices.json"
    broken.write_text(json.dumps({"prices": [{"key": "ec2:t3.small", "region": "eu-west-1"}]}))
    settings = make_settings(tmp_path, database_url, price_file=broken)

    with pytest.raises(PriceFileInvalid, match=r"prices\.0\.usd"):
        create_app(settings, database_url, db_engine=db_engine)
