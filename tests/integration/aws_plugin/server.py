"""The simulated `aws` provider: Pulumi's ResourceProvider gRPC service over the simulated AWS.

The Pulumi engine starts it with its own address as the only argument and reads the port it
listens on from the first line of stdout, as with any provider plugin. Every error it returns
starts with `[simulated AWS]`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import uuid
from concurrent import futures
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from service.engines.simulated_aws import (
    AUTONAMED,
    LAUNCH_TEMPLATE,
    NAMED_IDS,
    autoname,
    computed_outputs,
    look_up,
    replacing_inputs,
)
from service.engines.simulated_aws_rules import (
    CLUSTER,
    CLUSTER_SNAPSHOT,
    GLOBAL_CLUSTER,
    PREFIX,
    UNKNOWN,
    check_resource,
)
from tests.integration.aws_plugin.cloud import SimulatedAccount

# Where the test run keeps its simulated account (set by the wrapper script install.py writes).
ACCOUNT_DIR_VARIABLE = "STEPLADDER_SIMULATED_AWS_DIR"


def plugin_version() -> str:
    """The version pulumi-aws asks the engine for, so the engine picks this plugin."""
    text = resources.files("pulumi_aws").joinpath("pulumi-plugin.json").read_text()
    return str(json.loads(text)["version"])


class ProcessKnowledge:
    """What the simulated cloud knows during a check: the account, plus this process's checks."""

    def __init__(self, account: SimulatedAccount) -> None:
        self.account = account
        self.checked: dict[str, tuple[str, dict[str, Any]]] = {}
        self.claims: dict[tuple[str, str], str] = {}
        self.lock = threading.Lock()

    def remember(self, urn: str, resource_type: str, inputs: dict[str, Any]) -> None:
        with self.lock:
            self.checked[urn] = (resource_type, inputs)

    def find(self, resource_type: str, key: str, value: Any) -> list[dict[str, Any]]:
        found = self.account.find(resource_type, key, value)
        with self.lock:
            checked = list(self.checked.items())
        for urn, (checked_type, inputs) in checked:
            named = {**inputs, "urn": urn}
            if checked_type in NAMED_IDS:
                named.setdefault("id", inputs.get(NAMED_IDS[checked_type]))
            if checked_type == resource_type and named.get(key) == value:
                found.append(named)
        return found

    def claim(self, kind: str, value: str, owner: str) -> str | None:
        with self.lock:
            holder = self.claims.setdefault((kind, value), owner)
        return None if holder == owner else holder


class SimulatedAwsProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, account: SimulatedAccount) -> None:
        self.account = account
        self.knowledge = ProcessKnowledge(account)
        self.region = "us-east-1"
        self.default_tags: dict[str, str] = {}
        # Whom the provider acts as: the role it was told to assume ({roleArn, sessionName,
        # ...}), or None for the caller's own credentials. Each record keeps it, as CloudTrail
        # keeps who created what.
        self.identity: dict[str, Any] | None = None
        self.cancelled = threading.Event()

    # Plugin and provider configuration.

    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=plugin_version())

    def GetSchema(self, request: Any, context: Any) -> Any:
        schema = {"name": "aws", "version": plugin_version(), "resources": {}, "functions": {}}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    def CheckConfig(self, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:
        olds, news = _plain(request.old_inputs or request.olds), _plain(request.news)
        changed = sorted(key for key in set(olds) | set(news) if olds.get(key) != news.get(key))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(self, request: Any, context: Any) -> Any:
        arguments = _plain(request.args)
        self.region = str(
            arguments.get("region") or request.variables.get("aws:config:region") or self.region
        )
        default_tags = arguments.get("defaultTags") or {}
        if isinstance(default_tags, str):  # provider inputs may arrive JSON-encoded
            default_tags = json.loads(default_tags)
        self.default_tags = {str(k): str(v) for k, v in (default_tags.get("tags") or {}).items()}
        roles = arguments.get("assumeRoles") or []
        if isinstance(roles, str):
            roles = json.loads(roles)
        # pulumi-aws takes a list but assumes its first role (its docs: only one is supported).
        self.identity = dict(roles[0]) if roles else None
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=False, acceptResources=False
        )

    def Cancel(self, request: Any, context: Any) -> Any:
        self.cancelled.set()
        return empty_pb2.Empty()

    # Resources.

    def Check(self, request: Any, context: Any) -> Any:
        resource_type, name = _type_and_name(request)
        olds, news = _plain(request.olds), _plain(request.news)
        if resource_type in AUTONAMED:
            prop, _ = AUTONAMED[resource_type]
            if news.get(prop) is None and olds.get(prop) is not None:
                news[prop] = olds[prop]  # a name Pulumi gave once stays
            failures = check_resource(resource_type, name, request.urn, news, self.knowledge)
            if news.get(prop) is None and not failures:
                news[prop] = autoname(name, request.randomSeed or request.urn.encode())
        else:
            failures = check_resource(resource_type, name, request.urn, news, self.knowledge)
        self.knowledge.remember(request.urn, resource_type, news)
        return provider_pb2.CheckResponse(
            inputs=_struct(news),
            failures=[provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in failures],
        )  # fmt: skip

    def Diff(self, request: Any, context: Any) -> Any:
        resource_type, _ = _type_and_name(request)
        olds = _plain(request.old_inputs) or _plain(request.olds)
        news = _plain(request.news)
        ignored = set(request.ignoreChanges)
        changed = sorted(
            key
            for key in set(olds) | set(news)
            if key not in ignored and (news.get(key) == UNKNOWN or olds.get(key) != news.get(key))
        )
        replaces = sorted(set(changed) & replacing_inputs(resource_type))
        kind = provider_pb2.PropertyDiff
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
            replaces=replaces,
            detailedDiff={
                key: kind(kind=kind.UPDATE_REPLACE if key in replaces else kind.UPDATE)
                for key in changed
            },
            hasDetailedDiff=True,
        )

    def Create(self, request: Any, context: Any) -> Any:
        resource_type, name = _type_and_name(request)
        inputs = _plain(request.properties)
        settings = self.account.settings()
        if settings.create_fails(resource_type, name):
            context.abort(
                grpc.StatusCode.UNKNOWN,
                f"{PREFIX}creating {resource_type} {name} failed: the test asked this create "
                "to fail",
            )
        prop = NAMED_IDS.get(resource_type)
        resource_id = str(inputs[prop]) if prop and inputs.get(prop) else _fresh_id(resource_type)
        outputs = {
            **inputs,
            **computed_outputs(resource_type, name, resource_id, self.region, inputs),
            "tagsAll": {**self.default_tags, **(inputs.get("tags") or {})},
        }
        if resource_type == GLOBAL_CLUSTER:
            outputs.update(self._global_cluster_engine(inputs))
        if resource_type == CLUSTER_SNAPSHOT:
            self._snapshot_cluster(inputs, context)
        # AWS has the resource as soon as it accepts the create; the provider then waits for it
        # to become available. A process killed meanwhile leaves it in AWS, tagged.
        self.account.put(
            {"type": resource_type, "id": resource_id, "urn": request.urn, "name": name,
             "region": self.region, "inputs": inputs, "outputs": outputs,
             "created_as": self.identity}
        )  # fmt: skip
        try:
            self._wait(settings.create_latency(resource_type, name), context, f"create {name}")
        finally:
            if self.cancelled.is_set():
                # The simulation rolls a cancelled create back (the real provider would record
                # a partly created resource instead), so a cancel leaves nothing behind.
                self.account.remove(resource_type, resource_id)
        return provider_pb2.CreateResponse(id=resource_id, properties=_struct(outputs))

    def Read(self, request: Any, context: Any) -> Any:
        resource_type, _ = _type_and_name(request)
        record = self.account.get(resource_type, request.id)
        if record is None:
            return provider_pb2.ReadResponse()  # gone from the cloud: refresh drops it
        return provider_pb2.ReadResponse(
            id=record["id"], properties=_struct(record["outputs"]), inputs=_struct(record["inputs"])
        )

    def Update(self, request: Any, context: Any) -> Any:
        resource_type, name = _type_and_name(request)
        news = _plain(request.news)
        self._wait(self.account.settings().latency_seconds, context, f"update {name}")
        record = self.account.get(resource_type, request.id)
        if record is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"{PREFIX}{resource_type} {request.id} does not exist"
            )
            raise AssertionError("abort raises")  # grpc's context is untyped here
        outputs = {
            **_plain(request.olds),
            **news,
            **computed_outputs(resource_type, name, request.id, record["region"], news),
            "tagsAll": {**self.default_tags, **(news.get("tags") or {})},
        }
        if resource_type == LAUNCH_TEMPLATE:
            outputs.update(_next_template_version(_plain(request.olds), news))
        record.update(inputs=news, outputs=outputs)
        self.account.put(record)
        return provider_pb2.UpdateResponse(properties=_struct(outputs))

    def Delete(self, request: Any, context: Any) -> Any:
        resource_type, name = _type_and_name(request)
        properties = _plain(request.properties)
        self._wait(self.account.settings().latency_seconds, context, f"delete {name}")
        record = self.account.get(resource_type, request.id)
        region = record["region"] if record else self.region
        if resource_type == CLUSTER:
            if properties.get("deletionProtection") is True:
                context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    f"{PREFIX}InvalidParameterCombination: cannot delete protected cluster "
                    f"{request.id}; disable deletion protection first",
                )
            snapshot = properties.get("finalSnapshotIdentifier")
            wants_snapshot = not properties.get("skipFinalSnapshot") and snapshot
            if wants_snapshot and not self.account.take_snapshot(region, str(snapshot)):
                context.abort(
                    grpc.StatusCode.ALREADY_EXISTS,
                    f"{PREFIX}DBClusterSnapshotAlreadyExistsFault: a snapshot named "
                    f"{snapshot} already exists in {region}; the cluster was not deleted",
                )
        self.account.remove(resource_type, request.id)
        return empty_pb2.Empty()

    def _snapshot_cluster(self, inputs: dict[str, Any], context: Any) -> None:
        """A manual cluster snapshot: of a cluster that exists, under a name of its own."""
        cluster, snapshot = (
            inputs.get("dbClusterIdentifier"),
            inputs.get("dbClusterSnapshotIdentifier"),
        )
        if self.account.get(CLUSTER, str(cluster)) is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"{PREFIX}DBClusterNotFoundFault: there is no cluster {cluster} to snapshot",
            )
        if not self.account.take_snapshot(self.region, str(snapshot)):
            context.abort(
                grpc.StatusCode.ALREADY_EXISTS,
                f"{PREFIX}DBClusterSnapshotAlreadyExistsFault: a snapshot named {snapshot} "
                f"already exists in {self.region}",
            )

    # Functions.

    def Invoke(self, request: Any, context: Any) -> Any:
        answer = look_up(request.tok, _plain(request.args), self.region)
        if answer is None and request.tok == _pending_creates().GET_RESOURCES:
            answer = self._tagged_resources(_plain(request.args))
        if answer is None:
            return provider_pb2.InvokeResponse(
                failures=[
                    provider_pb2.CheckFailure(
                        property="", reason=f"{PREFIX}the simulated provider has no {request.tok}"
                    )
                ]
            )
        return provider_pb2.InvokeResponse(**{"return": _struct(answer)})

    def _tagged_resources(self, args: dict[str, Any]) -> dict[str, Any]:
        """AWS's tagging API: the resources of a region that carry every tag filter's value,
        of the types asked for (`rds:cluster`), as ARNs with their tags."""
        region = str(args.get("region") or self.region)
        types = set(args.get("resourceTypeFilters") or [])
        filters = args.get("tagFilters") or []
        found: list[dict[str, Any]] = []
        for record in self.account.records():
            tags = record["outputs"].get("tagsAll") or {}
            arn = str(record["outputs"].get("arn", ""))
            carries_tags = all(
                f["key"] in tags and (not f.get("values") or tags[f["key"]] in f["values"])
                for f in filters
            )
            if (
                record["region"] == region
                and (not types or _pending_creates().tagging_type(arn) in types)
                and (carries_tags)
            ):
                found.append({"resourceArn": arn, "tags": tags, "complianceDetails": []})
        return {"id": region, "resourceTagMappingLists": found}

    def _wait(self, seconds: float, context: Any, what: str) -> None:
        """AWS takes its time; a cancellation ends the wait, and nothing was done."""
        if seconds > 0 and self.cancelled.wait(seconds):
            context.abort(
                grpc.StatusCode.CANCELLED,
                f"{PREFIX}{what} interrupted by cancellation; nothing was changed",
            )

    def _global_cluster_engine(self, inputs: dict[str, Any]) -> dict[str, Any]:
        source = inputs.get("sourceDbClusterIdentifier")
        for cluster in self.account.find(CLUSTER, "arn", source):
            return {
                "engine": inputs.get("engine") or cluster.get("engine"),
                "engineVersion": inputs.get("engineVersion") or cluster.get("engineVersion"),
            }
        return {}


def _type_and_name(request: Any) -> tuple[str, str]:
    """From the request's own fields, or its URN (`...::parent$type::name`)."""
    if getattr(request, "type", "") and getattr(request, "name", ""):
        return request.type, request.name
    qualified, name = request.urn.split("::")[-2:]
    return qualified.rsplit("$", 1)[-1], name


def _next_template_version(olds: dict[str, Any], news: dict[str, Any]) -> dict[str, int]:
    """AWS keeps a changed launch template as its next version, the default one when the
    template says so (`updateDefaultVersion`)."""
    latest = int(olds.get("latestVersion") or 0) + 1
    default = latest if news.get("updateDefaultVersion") else int(olds.get("defaultVersion") or 1)
    return {"latestVersion": latest, "defaultVersion": default}


def _fresh_id(resource_type: str) -> str:
    return f"sim-{resource_type.rsplit(':', 1)[-1].lower()}-{uuid.uuid4().hex[:12]}"


def _plain(struct: struct_pb2.Struct | None) -> dict[str, Any]:
    if struct is None:
        return {}
    plain: dict[str, Any] = json_format.MessageToDict(struct)
    return plain


def _pending_creates() -> ModuleType:
    """Imported when first needed: it imports the programs and pulumi_aws, which cost every
    start of this plugin (one per CLI command) over a second of CPU, and only the look-up of
    pending creates' tagged resources uses it."""
    from service.engines import pulumi_pending

    return pulumi_pending


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def main() -> None:
    # The CLI cancels an update with the Cancel call; its SIGINT comes when it closes the plugin
    # (then waits 5 s before a SIGKILL), so this one ends at once, as a Go provider does.
    signal.signal(signal.SIGINT, lambda *_: server.stop(grace=None))
    account = SimulatedAccount(Path(os.environ[ACCOUNT_DIR_VARIABLE]))
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(SimulatedAwsProvider(account), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()
