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
    if certificate is None or key is None:
        return None, None
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certificate, key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or error
        raise SystemExit(
            f"stepladder: cannot serve TLS with the certificate {certificate} and the key {key} "
            f"({reason}); check STEPLADDER_TLS_CERTIFICATE_FILE and STEPLADDER_TLS_KEY_FILE."
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
