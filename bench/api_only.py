"""The service's API without its worker (operations stay queued), for the plan figures:
what a request plans from is then exactly what the benchmark queued."""

from __future__ import annotations

import sys

import uvicorn

from service.app import create_app
from service.cli import prepare_service
from service.config import Settings

if __name__ == "__main__":
    settings = Settings()
    app = create_app(settings, prepare_service(settings), run_worker_in_process=False)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
