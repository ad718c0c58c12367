"""The tier reference in docs/ is generated from the programs and must match them."""

from service.reference import DOCS_PATH, render_reference


def test_tier_reference_is_up_to_date() -> None:
    assert DOCS_PATH.read_text() == render_reference(), (
        "docs/tiers.md is out of date: run `stepladder docs` and commit the result"
    )
