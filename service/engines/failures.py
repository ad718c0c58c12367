"""A failure that is ours, not the user's (a bug, a broken request): its traceback goes to the
log under a reference, secrets masked, and the user is told the reference only."""

from __future__ import annotations

import logging
import traceback

from service.engines.model import EngineError
from service.engines.protocol import OperationFailure
from service.engines.secrets import redact_text
from service.observability.references import internal_error_message, new_reference

INTERNAL_ERROR = "internal_error"

logger = logging.getLogger(__name__)


def internal_error(error: BaseException, known_secrets: tuple[str, ...] = ()) -> EngineError:
    """`error` as an EngineError that names a reference only; the cause is logged under it."""
    reference = new_reference()
    cause = redact_text("".join(traceback.format_exception(error)), known_secrets)
    logger.error("internal error (reference %s):\n%s", reference, cause)
    return EngineError(
        INTERNAL_ERROR, internal_error_message(reference), reference=reference, log=cause
    )


def failure_message(error: EngineError) -> OperationFailure:
    """What the worker is told of a failure: the user's message, and an internal one's log."""
    return OperationFailure(
        code=error.code, message=error.message, reference=error.reference, log=error.log
    )
