"""Refreshing the price book from AWS's public Price List Bulk API (no credentials needed).

The API's shape: `{base}/offers/v1.0/aws/index.json` names each service's offer and its
`currentRegionIndexUrl`; that region index names each region's offer file
(`currentVersionUrl`); an offer file holds `products` (by SKU, with `productFamily` and
`attributes`) and `terms.OnDemand[sku][offerTermCode].priceDimensions[rateCode]` with `unit`
and `pricePerUnit.USD`. A key with no matching product keeps no price: it stays missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx

from service.costs.prices import Price, PriceBook

PUBLIC_BASE_URL = "https://pricing.us-east-1.amazonaws.com"
INDEX_PATH = "/offers/v1.0/aws/index.json"
TIMEOUT_SECONDS = 60.0
# How Aurora names its engines in the price list.
AURORA_ENGINES = {"aurora-mysql": "Aurora MySQL", "aurora-postgresql": "Aurora PostgreSQL"}
UNITS: dict[str, Literal["hour", "month"]] = {"Hrs": "hour", "Month": "month"}


@dataclass(frozen=True)
class Wanted:
    """Where one price key is found: the offer, the product family and its attributes."""

    offer: str
    family: str
    attributes: dict[str, str]


class PriceListUnavailable(Exception):
    """The Price List API could not be read; the message says which address and why."""


def wanted(key: str) -> Wanted | None:
    """The Price List product a price key stands for; None for a key it cannot look up."""
    kind, _, rest = key.partition(":")
    if kind == "ec2" and rest:
        return Wanted(
            "AmazonEC2",
            "Compute Instance",
            {"instanceType": rest, "operatingSystem": "Linux", "tenancy": "Shared",
             "preInstalledSw": "NA", "capacitystatus": "Used"},
        )  # fmt: skip
    if kind == "rds":
        engine, _, instance_class = rest.partition(":")
        if engine in AURORA_ENGINES and instance_class:
            return Wanted(
                "AmazonRDS",
                "Database Instance",
                {"instanceType": instance_class, "databaseEngine": AURORA_ENGINES[engine]},
            )
    if kind == "elasticache" and rest:
        return Wanted("AmazonElastiCache", "Cache Instance", {"instanceType": rest,
                                                              "cacheEngine": "Redis"})  # fmt: skip
    if key == "elb:application":
        return Wanted(
            "AWSELB", "Load Balancer-Application", {"operation": "LoadBalancing:Application"}
        )
    return None


def update_price_book(
    book: PriceBook,
    keys: Iterable[str],
    regions: Iterable[str],
    *,
    base_url: str = PUBLIC_BASE_URL,
    client: httpx.Client | None = None,
) -> tuple[PriceBook, list[str]]:
    """The book with every (key, region) the price list has refreshed, and the pairs it has
    not (each kept as it was: a price the list lacks is never made up)."""
    reader = _Reader(base_url, client or httpx.Client(timeout=TIMEOUT_SECONDS))
    prices = {(price.key, price.region): price for price in book.prices}
    missing = []
    for region in sorted(set(regions)):
        for key in sorted(set(keys)):
            found = reader.price(key, region)
            if found is None:
                missing.append(f"{key} in {region}")
            else:
                prices[(key, region)] = found
    updated = book.model_copy(
        update={
            "prices": tuple(sorted(prices.values(), key=lambda p: (p.key, p.region))),
            "updated_from": reader.index_url,
            "updated_on": reader.index_date,
        }
    )
    return updated, missing


class _Reader:
    def __init__(self, base_url: str, client: httpx.Client) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.index_url = self.base_url + INDEX_PATH
        index = self._get(self.index_url)
        self.index_date = str(index.get("publicationDate", ""))[:10]
        self.offers: dict[str, Any] = index.get("offers", {})
        self._files: dict[tuple[str, str], tuple[str, dict[str, Any]] | None] = {}

    def price(self, key: str, region: str) -> Price | None:
        looked_up = wanted(key)
        if looked_up is None:
            return None
        offer = self._offer_file(looked_up.offer, region)
        if offer is None:
            return None
        url, document = offer
        for sku, product in document.get("products", {}).items():
            attributes = product.get("attributes", {})
            if product.get("productFamily") != looked_up.family or any(
                attributes.get(name) != value for name, value in looked_up.attributes.items()
            ):
                continue
            for dimension in _on_demand_dimensions(document, sku):
                per = UNITS.get(dimension.get("unit", ""))
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if per is None or usd is None:
                    continue
                return Price(
                    key=key,
                    region=region,
                    usd=Decimal(usd).normalize(),
                    per=per,
                    what=str(dimension.get("description", "")),
                    source=url,
                    read_on=str(document.get("publicationDate", ""))[:10],
                )
        return None

    def _offer_file(self, offer: str, region: str) -> tuple[str, dict[str, Any]] | None:
        if (offer, region) not in self._files:
            self._files[(offer, region)] = self._read_offer_file(offer, region)
        return self._files[(offer, region)]

    def _read_offer_file(self, offer: str, region: str) -> tuple[str, dict[str, Any]] | None:
        region_index_path = self.offers.get(offer, {}).get("currentRegionIndexUrl")
        if not region_index_path:
            return None
        regions = self._get(self.base_url + region_index_path).get("regions", {})
        path = regions.get(region, {}).get("currentVersionUrl")
        if not path:
            return None
        url = self.base_url + path
        return url, self._get(url)

    def _get(self, url: str) -> dict[str, Any]:
        try:
            response = self.client.get(url)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise PriceListUnavailable(f"{url}: {type(error).__name__}: {error}") from error
        return document


def _on_demand_dimensions(document: dict[str, Any], sku: str) -> list[dict[str, Any]]:
    terms = document.get("terms", {}).get("OnDemand", {}).get(sku, {})
    return [
        dimension
        for term in terms.values()
        for dimension in term.get("priceDimensions", {}).values()
    ]
