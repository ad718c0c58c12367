"""The worker's connection pool ends with the worker, however early the worker is stopped."""

from __future__ import annotations

import asyncio
import contextlib

from service.jobs.queue import build_job_app
from service.jobs.worker import open_job_app


async def _tasks_left_after_cancelling_while_connecting() -> list[str]:
    first_attempt = asyncio.Event()

    def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A "database" that closes every connection at once: the pool keeps retrying, so it
        # is still opening when the worker is cancelled.
        first_attempt.set()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    job_app = build_job_app(f"postgresql://nobody@127.0.0.1:{port}/nothing")

    async def worker() -> None:
        async with open_job_app(job_app):
            await asyncio.Event().wait()

    worker_task = asyncio.create_task(worker())
    await first_attempt.wait()
    worker_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker_task
    await asyncio.sleep(0)  # let tasks that were told to stop reach their end
    left = [task.get_name() for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    # Should the pool have outlived the worker, close it here, so that the test fails on
    # the list above rather than hanging in `asyncio.run`'s shutdown.
    await job_app.connector.close_async()
    server.close()
    await server.wait_closed()
    return left


def test_cancelling_the_worker_while_its_pool_connects_leaves_no_pool_task_running() -> None:
    # Left running, psycopg_pool's tasks take their own cancellation for a failed connection
    # and retry for minutes, which held a test client's shutdown past its 300 s timeout.
    assert asyncio.run(_tasks_left_after_cancelling_while_connecting()) == []
