"""What `stepladder serve` listens with: TLS served directly, and beside it a plain-HTTP port
that only redirects to it."""

from __future__ import annotations

import asyncio
import socket
import ssl

import uvicorn
from uvicorn.lifespan.off import LifespanOff

from service.config import Settings
from service.http_security.transport import RedirectEverything


def checked_tls_files(settings: Settings) -> tuple[str, str] | tuple[None, None]:
    """The certificate and key for uvicorn, once they are known to make a usable pair; none
    for plain HTTP (a TLS-terminating proxy in front)."""
    certificate, key = settings.tls_certificate_file, settings.tls_key_file
    if (certificate is None) != (key is None):
        raise SystemExit(
            "stepladder: TLS needs both a certificate and its key (--tls-certificate and "
            "--tls-key, or STEPLADDER_TLS_CERTIFICATE_FILE and STEPLADDER_TLS_KEY_FILE)."
        )
    if certificate is None or key is None:
        if settings.redirect_port is not None:
            raise SystemExit(
                "stepladder: STEPLADDER_REDIRECT_PORT redirects to the HTTPS the service serves "
                "itself, and no certificate is set; behind a TLS-terminating proxy, use "
                "STEPLADDER_HTTPS_REDIRECT=true instead."
            )
        return None, None
    for path in (certificate, key):
        if not path.is_file():
            raise SystemExit(f"stepladder: cannot serve TLS: there is no file {path}.")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError):
        raise SystemExit(
            f"stepladder: cannot serve TLS with the certificate {certificate} and the key {key}: "
            "they must be a PEM certificate (its chain after it) and its PEM private key, "
            "unencrypted."
        ) from None
    return str(certificate), str(key)


class RedirectListener:
    """A second uvicorn server on the same event loop, answering every request on its port
    with a redirect to the HTTPS port. It has no lifespan of its own: the application starts
    once, in the TLS server."""

    def __init__(self, listener: socket.socket, https_port: int) -> None:
        config = uvicorn.Config(
            RedirectEverything(https_port),
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            access_log=False,
            log_config=None,  # the TLS server's logging stays as configured
        )
        config.load()
        self.listener = listener
        self.server = uvicorn.Server(config)
        self.server.lifespan = LifespanOff(config)
        self.ticking: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.server.startup(sockets=[self.listener])
        # uvicorn's loop that keeps the Date header current and notices `should_exit`.
        self.ticking = asyncio.create_task(self.server.main_loop())

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.ticking is not None:
            await self.ticking
        await self.server.shutdown(sockets=[self.listener])
