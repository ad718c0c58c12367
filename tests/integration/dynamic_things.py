"""The resources of the integration suite's dynamic provider programs.

Pulumi's dynamic provider process unpickles `Slow` by reference, importing this module, once for
every preview and update: so it imports only Pulumi and the standard library. (Defined in a test
module, it cost that process the test module's imports, the programs and the service, about ten
seconds a command on a loaded machine.)
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from pulumi import dynamic


class Slow(dynamic.ResourceProvider):
    """Creates after `seconds`, leaving a marker when it starts; `generation` replaces."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        if props.get("marker"):
            Path(props["marker"]).write_text("creating")
        time.sleep(float(props.get("seconds", 0)))
        return dynamic.CreateResult(id_=uuid.uuid4().hex, outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        keys = {"generation", "seconds", "marker"}
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        replaces = ["generation"] if "generation" in changed else []
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> Any:
        return dynamic.UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Thing(dynamic.Resource):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(Slow(), name, props)
