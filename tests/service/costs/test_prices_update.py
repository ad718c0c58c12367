"""`stepladder prices update` against a trimmed sample of the Price List Bulk API served on
loopback (tests/service/costs/price_list_sample, see its README)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from service.cli import main
from service.costs.prices import SHIPPED, PriceBook

SAMPLE = Path(__file__).with_name("price_list_sample")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def price_list() -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(SAMPLE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _update(base_url: str, output: Path, *regions: str) -> None:
    arguments = ["prices", "update", "--output", str(output), "--base-url", base_url]
    for region in regions:
        arguments += ["--region", region]
    assert main(arguments) == 0


def test_update_refreshes_what_the_list_has_and_leaves_the_rest_missing(
    price_list: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "prices.json"

    _update(price_list, output, "us-east-1", "eu-west-1")

    book = PriceBook.model_validate_json(output.read_text())
    assert book.updated_from == f"{price_list}/offers/v1.0/aws/index.json"
    assert book.updated_on == "2025-11-21"
    small = book.find("ec2:t3.small", "us-east-1")
    assert small is not None  # Linux, not the Windows product beside it
    assert (small.usd, small.per, small.read_on) == (Decimal("0.021"), "hour", "2025-11-20")
    assert small.source.endswith("/AmazonEC2/20251120000000/us-east-1/index.json")
    aurora = book.find("rds:aurora-mysql:db.t4g.medium", "us-east-1")
    assert aurora is not None and aurora.usd == Decimal("0.075")
    assert aurora.read_on == "2025-11-18"
    # Not in the sample: ElastiCache's offer, t3.small in Ireland, RDS in Ireland.
    assert book.find("elasticache:cache.t4g.small", "us-east-1") is None
    assert book.find("ec2:t3.small", "eu-west-1") is None
    assert book.find("rds:aurora-mysql:db.t4g.medium", "eu-west-1") is None
    said = capsys.readouterr().out
    assert "elasticache:cache.t4g.small in us-east-1" in said
    assert "ec2:t3.small in eu-west-1" in said
    # What the list cannot say is kept as the book had it, with its own source and date.
    shipped = PriceBook.model_validate_json(SHIPPED.read_text())
    ipv4 = book.find("public-ipv4", "*")
    assert ipv4 == shipped.find("public-ipv4", "*")
    assert "public-ipv4 in us-east-1" in said


def test_an_unreachable_price_list_changes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "prices.json"
    output.write_text(SHIPPED.read_text())

    with pytest.raises(SystemExit, match="cannot read the Price List API"):
        _update("http://127.0.0.1:9", output, "us-east-1")

    assert output.read_text() == SHIPPED.read_text()
