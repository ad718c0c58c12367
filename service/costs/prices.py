"""The price book: the list prices shipped with Stepladder (`price_book.json`, each with its
source, region and date), with the operator's own file on top (STEPLADDER_PRICE_FILE)."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SHIPPED = Path(__file__).with_name("price_book.json")
# Any region: only for a price its source states holds everywhere.
EVERY_REGION = "*"


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, description="what is priced: `ec2:t3.small`, `elb:application`")
    region: str = Field(min_length=1, description="an AWS region, or `*` for every region")
    usd: Decimal = Field(ge=0)
    per: Literal["hour", "month"]
    what: str = ""
    source: str = Field(min_length=1, description="where the price was read (a URL, a file)")
    read_on: str = Field(min_length=1, description="when it was read (YYYY-MM-DD)")


class PriceBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str = ""
    # Set by `stepladder prices update`: the Price List index it read, and that index's date.
    updated_from: str = ""
    updated_on: str = ""
    hours_per_month: int = Field(default=730, ge=1)
    prices: tuple[Price, ...] = ()

    def find(self, key: str, region: str) -> Price | None:
        """The region's own price first, else one that holds in every region."""
        exact = everywhere = None
        for price in self.prices:
            if price.key == key and price.region == region:
                exact = price
            elif price.key == key and price.region == EVERY_REGION:
                everywhere = price
        return exact or everywhere

    def monthly(self, price: Price) -> Decimal:
        return price.usd * self.hours_per_month if price.per == "hour" else price.usd


class PriceFileInvalid(ValueError):
    """The operator's price file cannot be used; the message names the file and the problem."""


def load_price_book(operator_file: Path | None) -> PriceBook:
    """Shipped prices, overridden or extended by the operator's, entry by (key, region)."""
    return _load(operator_file, _stamp(operator_file))


@functools.lru_cache(maxsize=8)
def _load(operator_file: Path | None, _stamp: float | None) -> PriceBook:
    shipped = PriceBook.model_validate_json(SHIPPED.read_text())
    if operator_file is None:
        return shipped
    try:
        theirs = PriceBook.model_validate(json.loads(operator_file.read_text()))
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise PriceFileInvalid(f"price file {operator_file}: {_reason(error)}") from error
    merged = {(price.key, price.region): price for price in shipped.prices}
    merged.update({(price.key, price.region): price for price in theirs.prices})
    return PriceBook(
        about=theirs.about or shipped.about,
        updated_from=theirs.updated_from or shipped.updated_from,
        updated_on=theirs.updated_on or shipped.updated_on,
        hours_per_month=theirs.hours_per_month,
        prices=tuple(merged.values()),
    )


def _stamp(path: Path | None) -> float | None:
    """The file's modification time: an edited price file is read again."""
    try:
        return path.stat().st_mtime if path is not None else None
    except OSError:
        return None


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}"
    return type(error).__name__ + ": " + str(error).splitlines()[0]
