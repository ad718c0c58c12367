"""The fork server: one process that imports Pulumi, pulumi_aws and the programs once, then forks
a fresh engine process per request, so an operation or a declaration starts without the import.

Started by `ForkServer` (`forking.py`) as `python -m service.engines.fork_server SOCKET`. It
never starts Pulumi's runtime (no settings, no gRPC channel, no event loop) and stays a single
thread, so a fork copies no lock held by another thread and no half-built runtime.

Each request on the Unix socket is one `ForkRequest` line with the child's stdin, stdout and
stderr attached (SCM_RIGHTS). The answer on the same connection is `ForkStarted`, then
`ChildExited` once the child has ended (fork_protocol.py).

It lives only as long as its starter: its stdin is a pipe whose only writer is the starter, so
EOF means the starter is gone (killed with -9 included). It then exits. An operation's child
does not depend on it: its life is tied to its worker by its own stdin (the lifeline,
protocol.py), so a fork server that dies, or is replaced, leaves the running operations to
finish. A declaring child asks for PR_SET_PDEATHSIG instead: it ends with the fork server, and
its starter declares again in a process of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import logging
import os
import selectors
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from service.engines.fork_protocol import ChildExited, ForkRequest, ForkStarted, ForkTarget

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
# The child's work, by request name: the same entry points `python -m <module>` runs.
TARGETS: dict[ForkTarget, str] = {
    "child": "service.engines.child",
    "declare": "service.engines.declare",
}
# Everything the engine processes import: the service's side, Pulumi's automation API.
MODULES = (
    "pulumi",
    "pulumi.automation",
    "pulumi.runtime",
    "pulumi_aws",
    "programs",
    "service.engines.child",
    "service.engines.declare",
    "service.engines.simulator",
    "service.engines.pulumi_engine",
)
# pulumi_aws loads each service's package lazily, on first attribute access; these are the
# ones `programs/` uses (tests/service/engines/test_fork_server.py checks nothing is missing).
AWS_PACKAGES = (
    "acm",
    "appautoscaling",
    "autoscaling",
    "cloudfront",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "elasticache",
    "iam",
    "kms",
    "lambda_",
    "lb",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "serverlessrepository",
    "sns",
    "sqs",
    "ssm",
    "vpc",
)
REQUEST_LIMIT = 4 * 1024 * 1024
REQUEST_TIMEOUT_SECONDS = 30.0


def preload() -> None:
    for name in MODULES:
        importlib.import_module(name)
    for package in AWS_PACKAGES:
        # A lazily loaded package runs its code (importing all its resources) on first access
        # to an attribute other than introspection ones; every generated package has this one.
        getattr(importlib.import_module(f"pulumi_aws.{package}"), "_utilities")  # noqa: B009
    resolve_type_hints()


def resolve_type_hints() -> None:
    """Resolve the type hints of every resource, input and output class imported, once here.

    Pulumi resolves a class's hints (`typing.get_type_hints`, cached per class) the first time
    a program uses the class: without this, every child paid it again, most of a first
    declaration's cost (tier 2: 310 ms first, 200 ms after)."""
    from pulumi import Resource, _types

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("pulumi", "pulumi_aws", "programs") or module is None:
            continue
        for value in list(vars(module).values()):
            if not isinstance(value, type) or value.__module__ != name:
                continue
            # A bool, not the check itself: its TypeGuard would narrow `value` for mypy to a
            # type the caches' signature rejects.
            is_output = _types.is_output_type(value)
            if issubclass(value, Resource) or is_output or _types.is_input_type(value):
                _types._types_from_py_properties(value)
            if is_output:
                _types._required_property_names(value)


def serve(socket_path: str) -> None:
    preload()
    # What the imports made lives as long as every child: out of the collector's sight, so a
    # child's collections neither walk it (thousands of resolved hints) nor write to its pages.
    gc.collect()
    gc.freeze()
    threads = len(os.listdir("/proc/self/task")) if Path("/proc/self/task").exists() else 1
    if threading.active_count() != 1 or threads != 1:
        raise SystemExit(f"fork server: {threads} threads after the imports; forking is unsafe")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda _signal, _frame: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    inherited = [listener.fileno(), wake_read, wake_write]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is listener:
                    connection, _ = listener.accept()
                    _answer(connection, waiting, inherited)
                elif key.fileobj == 0:
                    if not os.read(0, 4096):
                        _starter_gone(socket_path)
                else:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_read, 4096)
                    _reap(waiting)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(socket_path)


def _starter_gone(socket_path: str) -> None:
    """Exit at once: tearing down an interpreter holding pulumi_aws takes seconds under load,
    and the children must get their SIGTERM (PR_SET_PDEATHSIG) as soon as the worker is gone."""
    with contextlib.suppress(OSError):
        os.unlink(socket_path)
    os._exit(0)


def _answer(
    connection: socket.socket, waiting: dict[int, socket.socket], inherited: list[int]
) -> None:
    fds: list[int] = []
    try:
        connection.settimeout(REQUEST_TIMEOUT_SECONDS)
        request, fds = _receive(connection)
        if len(fds) != 3:
            raise ValueError("a request attaches three fds")
        pid = os.fork()
        if pid == 0:
            others = [other.fileno() for other in waiting.values()] + [connection.fileno()]
            _run_child(request, fds, inherited + others)
        waiting[pid] = connection
        connection.sendall(ForkStarted(pid=pid).model_dump_json().encode() + b"\n")
    except (OSError, ValueError) as error:
        print(f"fork server: refused a request: {error}", file=sys.stderr, flush=True)
        connection.close()
    finally:
        for fd in fds:
            os.close(fd)


def _receive(connection: socket.socket) -> tuple[ForkRequest, list[int]]:
    """The request and its fds; ValueError (pydantic's ValidationError is one) if malformed."""
    data, fds, _, _ = socket.recv_fds(connection, REQUEST_LIMIT, 3)
    while not data.endswith(b"\n"):
        more = connection.recv(REQUEST_LIMIT)
        if not more:
            raise ValueError("the request ended before its end of line")
        data += more
    return ForkRequest.model_validate_json(data), list(fds)


def _reap(waiting: dict[int, socket.socket]) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is None:
            continue
        with contextlib.suppress(OSError):  # the starter stopped waiting for it
            exited = ChildExited(exit=os.waitstatus_to_exitcode(status))
            connection.sendall(exited.model_dump_json().encode())
        connection.close()


def _run_child(request: ForkRequest, fds: list[int], inherited: list[int]) -> None:
    """In the forked child: become what `python -m <target>` would be, run it, never return."""
    code = 1
    try:
        _become_child(request, fds, inherited)
        module = importlib.import_module(TARGETS[request.target])
        entry: Callable[[], int] = module.entry
        code = entry()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = -signal.SIGINT
    except BaseException:  # noqa: BLE001 - reported as the interpreter would, then exit
        traceback.print_exc()
    finally:
        _exit(code)


def _become_child(request: ForkRequest, fds: list[int], inherited: list[int]) -> None:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # Its own session, as the worker starts an engine process: signals reach its whole group.
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    if request.target == "declare":
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    libc.prctl(PR_SET_NAME, f"engine-{request.target}".encode()[:15])
    for target_fd, fd in enumerate(fds):
        os.dup2(fd, target_fd)
    for fd in [*fds, *inherited]:
        with contextlib.suppress(OSError):
            os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.environment)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own stdin
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    # Fresh logging: the child configures its own, as a newly started interpreter would.
    logging.root.handlers.clear()


def _exit(code: int) -> None:
    """End the forked child as the interpreter would end: join threads, run atexit, flush."""
    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    if code < 0:  # ended by a signal, as an uncaught KeyboardInterrupt ends an interpreter
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    serve(sys.argv[1])
