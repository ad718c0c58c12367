"""Print the OpenAPI description the service serves at /openapi.json, for `make lint`.

It is `build_application`'s, which `create_app` serves (tests/service/api/test_openapi.py
checks that they are the same); building it needs no database.
"""

from __future__ import annotations

import json
import sys

from service.app import build_application

json.dump(build_application().openapi(), sys.stdout, indent=1)
sys.stdout.write("\n")
