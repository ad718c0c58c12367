"""What the browser reports on every page a test visits: each Content-Security-Policy violation
(the document's `securitypolicyviolation` events) and each console error or uncaught exception.
The strict policy (service/http_security/headers.py) must cost the pages nothing: any of these
fails the test."""

from __future__ import annotations

import re
from typing import Any

# Runs before any script of each document, outside the page's policy (Playwright injects it).
LISTEN = """
document.addEventListener('securitypolicyviolation', event => window.__stepladderViolation(
  `${event.effectiveDirective} refused ${event.blockedURI || 'an inline part'}`
  + ` (${event.sourceFile || 'the document'}:${event.lineNumber})`));
"""
# A test may visit an error page on purpose (a 404, a 403): Chromium logs the document's own
# status as a console error. Any other failed load, of a script, a style, an image, still counts.
ERROR_STATUS = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


class PageProblems:
    def __init__(self) -> None:
        self.found: list[str] = []
        self._error_documents: set[str] = set()

    def listen(self, context: Any) -> None:
        context.expose_binding("__stepladderViolation", self._violation)
        context.add_init_script(LISTEN)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.found.append(f"uncaught: {error.error}"))
        context.on("response", self._response)

    def take(self) -> list[str]:
        """What was reported since the last call."""
        found, self.found = self.found, []
        return found

    def _violation(self, source: Any, text: str) -> None:
        self.found.append(f"CSP violation on {source['frame'].url}: {text}")

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document" and 400 <= response.status < 500:
            self._error_documents.add(response.url)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if ERROR_STATUS.match(message.text) and where in self._error_documents:
            return
        self.found.append(f"console error at {where}: {message.text}")


_by_context: dict[int, PageProblems] = {}


def problems_of(page: Any) -> PageProblems:
    return _by_context[id(page.context)]


def watch(context: Any) -> PageProblems:
    problems = PageProblems()
    problems.listen(context)
    _by_context[id(context)] = problems
    return problems


def forget(context: Any) -> None:
    _by_context.pop(id(context), None)
