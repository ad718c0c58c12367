"""An operator's price file that prices every resource the programs' estimates ask for, in
the four regions the cost tests use, with round figures so the sums can be done by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.app import create_app
from tests.conftest import make_settings
from tests.helpers import ADMIN_HEADERS

# Test prices, not AWS's. A month is 730 hours, so each hourly price is shown with its month.
COMPLETE_PRICES = {
    "ec2:t3.micro": ("hour", "0.01"),  # 7.30 a month
    "ec2:t3.small": ("hour", "0.02"),  # 14.60 a month
    "rds:aurora-mysql:db.t4g.medium": ("hour", "0.10"),  # 73.00 a month
    "rds:aurora-mysql:db.r5.large": ("hour", "0.25"),  # 182.50 a month
    "rds:aurora-postgresql:db.r6g.large": ("hour", "0.30"),  # 219.00 a month
    "elasticache:cache.t4g.small": ("hour", "0.04"),  # 29.20 a month
    "elb:application": ("hour", "0.03"),  # 21.90 a month
    "public-ipv4": ("hour", "0.005"),  # 3.65 a month
    "cloudwatch:alarm": ("month", "0.10"),
    "cloudwatch:dashboard": ("month", "3.00"),
    "secretsmanager:secret": ("month", "0.40"),
}
PRICED_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")
READ_ON = "2026-11-20"


def write_complete_prices(path: Path) -> Path:
    prices = [
        {"key": key, "region": region, "usd": usd, "per": per, "source": "test fixture",
         "read_on": READ_ON}
        for key, (per, usd) in COMPLETE_PRICES.items()
        for region in PRICED_REGIONS
    ]  # fmt: skip
    path.write_text(json.dumps({"prices": prices}))
    return path


@pytest.fixture
def fully_priced(tmp_path: Path, database_url: str, db_engine: Engine) -> Iterator[TestClient]:
    """The app with every estimated resource priced: totals are complete."""
    prices = write_complete_prices(tmp_path / "complete-prices.json")
    settings = make_settings(tmp_path, database_url, price_file=prices)
    app = create_app(settings, database_url, db_engine=db_engine)
    with TestClient(app, headers=ADMIN_HEADERS) as client:
        yield client
