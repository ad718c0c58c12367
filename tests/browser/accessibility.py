"""axe-core (tests/browser/package.json, installed by `make axe`) run inside the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.page_problems import problems_of

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
BLOCKING = ("serious", "critical")


def serious_violations(page: Any) -> list[str]:
    """axe's serious and critical findings on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, which the page's policy does not
        # govern (a <script> tag with axe's text inside would be an inline script it refuses).
        page.evaluate(AXE.read_text() + "\n;true")
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at "
        + ", ".join(str(node["target"]) for node in item["nodes"][:3])
        for item in results
        if item["impact"] in BLOCKING
    ]


# Elements reaching past the right edge of the viewport: what makes a page scroll sideways.
PAST_THE_EDGE = """width => [...document.querySelectorAll('body *')]
  .filter(element => element.getBoundingClientRect().right > width + 1)
  .map(element => element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
       + (element.className && typeof element.className === 'string'
          ? '.' + element.className.split(' ').join('.') : ''))
  .slice(0, 5)"""


def sideways_overflow(page: Any, width: int) -> list[str]:
    """Nothing of the page may need horizontal scrolling (wide tables scroll in their own box)."""
    if page.evaluate("document.documentElement.scrollWidth") <= width:
        return []
    return ["the page scrolls sideways: " + ", ".join(page.evaluate(PAST_THE_EDGE, width))]


def check_page(page: Any, screenshots: Path, name: str) -> None:
    """The page at both widths: a screenshot each, no sideways scrolling, no serious axe
    finding, and no CSP violation or console error (tests/browser/page_problems.py) at either."""
    found: dict[int, list[str]] = {}
    original = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
        violations = sideways_overflow(page, width) + serious_violations(page)
        violations += problems_of(page).take()
        if violations:
            found[width] = violations
    page.set_viewport_size(original)
    assert not found, f"{name}: {found}"
