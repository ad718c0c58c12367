"""Failed logins, from the web form or as a wrong bearer token: each is audited with the client's
address (never the secret tried) and counted, slowed past a few and refused (429) past more, for
that address only (`service.access.login_throttle`)."""

from __future__ import annotations

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter
from sqlmodel import Session

from service.access import login_throttle
from service.access.audit import record_refusal
from service.access.domain import Actor
from service.access.login_throttle import LoginPolicy
from service.access.roles import Role
from service.errors import TooManyRequests
from service.http_security.delay import delay_answer

# The audit's name for a failed login, by channel: the web form's and a bearer token's.
AUDITED_AS = {"web": "session.login", "api": "authenticate"}


class LoginThrottled(TooManyRequests):
    error = "login_throttled"


class LoginMetrics:
    """Failed logins and the throttle's answers, as this process saw them (like HTTP's)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.failures = Counter(
            "stepladder_login_failures",
            "Failed logins (web form or bearer token), by channel.",
            ["channel"],
            registry=registry,
        )
        self.throttled = Counter(
            "stepladder_login_throttled",
            "Logins the throttle slowed (delayed) or refused (429), by answer.",
            ["answer"],
            registry=registry,
        )


def client_address(request: Request) -> str:
    """The client as the service saw it, or as a trusted proxy reported it."""
    return request.client.host if request.client else "unknown"


def refuse_if_throttled(request: Request, session: Session) -> None:
    """Before a login's secret is even looked at: an address past its allowance gets a 429, so
    a guesser learns nothing more, right or wrong, until its window ends."""
    policy = _policy(request)
    address = client_address(request)
    found = login_throttle.standing(session, address, policy.window, request.app.state.clock.now())
    if found.failures < policy.before_lockout:
        return
    _metrics(request).throttled.labels("refused").inc()
    raise LoginThrottled(
        f"Too many failed logins from {address}; try again in {found.seconds_left} s.",
        headers={"Retry-After": str(found.seconds_left)},
    )


def record_failed_login(request: Request, session: Session, channel: str, reason: str) -> None:
    """Audit and count a failed login (once per request), and slow its answer past the
    policy's first failures."""
    if getattr(request.state, "failed_login_recorded", False):
        return
    request.state.failed_login_recorded = True
    policy = _policy(request)
    address = client_address(request)
    found = login_throttle.record_failure(
        request.app.state.db_engine, address, policy.window, request.app.state.clock.now()
    )
    detail = f"{request.method} {request.url.path} from {address}: {reason}"
    if found.failures == policy.before_lockout:
        detail += f" ({found.failures} failures: logins from there are refused for the next "
        detail += f"{found.seconds_left} s)"
    request_id = getattr(request.state, "request_id", None)
    anonymous = Actor("anonymous", Role.viewer, None, channel, request_id=request_id)
    record_refusal(session, anonymous, AUDITED_AS[channel], None, detail)
    metrics = _metrics(request)
    metrics.failures.labels(channel).inc()
    delay = policy.delay_after(found.failures)
    if delay > 0:
        metrics.throttled.labels("delayed").inc()
        delay_answer(request, delay)


def _policy(request: Request) -> LoginPolicy:
    return LoginPolicy.of(request.app.state.settings)


def _metrics(request: Request) -> LoginMetrics:
    metrics: LoginMetrics = request.app.state.login_metrics
    return metrics
