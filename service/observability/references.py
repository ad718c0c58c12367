"""The reference under which an internal failure is logged: the user sees the reference, the
log has the cause, and support joins the two."""

from __future__ import annotations

import uuid


def new_reference() -> str:
    return uuid.uuid4().hex[:12]


def internal_error_message(reference: str) -> str:
    """What a user is told of a failure that is ours, not theirs."""
    return f"Something went wrong on our side (reference {reference}); it has been logged."
