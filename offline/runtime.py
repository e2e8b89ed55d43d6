"""The offline workflow: the synthesized state machine, executed by moto, calling the real
handler code in-process, with the emulated buckets, bus and rules of the template.

What is real: the state machine definition (from the template, references resolved), the
handler code and each function's environment (every invocation reads exactly its function's
``Environment.Variables``, through ``ntm_tuning.environment``, whatever runs beside it), the
rules' event patterns and input transformers, the S3 objects and the events on the results
bus. What is emulated: AWS itself (moto), and the
tuning jobs (a ``TuningEngine``: the test stand-in unless another engine is plugged in).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from ntm_tuning.environment import use as invocation_environment
from ntm_tuning.events import PROGRESS

from . import moto_patches, strict
from .processing import LocalFolders, LocalProcessing, OfflineSageMaker
from .sagemaker import TuningEngine, client_error
from .scripted import Scenario, ScriptedSageMaker
from .template import Resolver

REGION = "us-east-1"
ACCOUNT = "123456789012"
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")

EngineFactory = Callable[[Any], TuningEngine]


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    environment: dict[str, str]


@dataclass
class Execution:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    states: list[str]


# A held Wait still ends after this long, so a test that forgets its execution cannot hang.
HOLD_LIMIT_SECONDS = 600.0


@dataclass
class Clock:
    """Offline time: Wait states and retry intervals are recorded and scaled, not slept.

    A Wait also ends as soon as a local job changes state (``wake``): offline time skips to the
    next thing that happens, so a poll does not lag a job that has just finished. Every Wait
    state still runs, and the next poll sees what it would have seen after the full wait.
    """

    scale: float = 0.0
    # Tests: every Wait state lasts until its execution is stopped, so that an abort lands
    # inside one whatever the machine's load (``scale`` and wake-ups are then ignored).
    hold: bool = False
    waits: list[float] = field(default_factory=list)
    retries: list[float] = field(default_factory=list)
    _woken: threading.Event = field(default_factory=threading.Event, repr=False)

    def pause(self, seconds: float) -> None:
        if self.scale > 0:
            time.sleep(seconds * self.scale)

    def wake(self) -> None:
        """A local job changed state: end the Wait now in progress."""
        self._woken.set()

    def wait(self, seconds: float, stopped: threading.Event) -> None:
        """Sleep a Wait state's ``seconds``, scaled; end early when woken or ``stopped``."""
        if self.hold:
            stopped.wait(HOLD_LIMIT_SECONDS)
            return
        deadline = time.monotonic() + seconds * self.scale
        while not stopped.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._woken.wait(min(remaining, 0.02)):
                self._woken.clear()
                return


class FaultInjector:
    """Makes chosen AWS calls answer as AWS does when things go wrong."""

    def __init__(self) -> None:
        self.failed_put_events = 0
        # Fail only the entries of this detail type (None: any).
        self.failing_detail_type: str | None = None
        self.put_events_calls = 0
        self.put_events_calls_by_type: Counter[str] = Counter()
        # SageMaker calls (boto3 method names) to answer with ThrottlingException, and how
        # many times each; every throttled call is recorded in order.
        self.throttled_sagemaker: dict[str, int] = {}
        # Calls of a method let through before its throttling starts.
        self.unthrottled_first: dict[str, int] = {}
        self.throttled_calls: list[str] = []
        self._lock = threading.Lock()

    def wrap_sagemaker(self, client: Any) -> Any:
        return _ThrottlingSageMaker(client, self)

    def throttles(self, method: str) -> bool:
        with self._lock:
            left = self.throttled_sagemaker.get(method, 0)
            if left <= 0:
                return False
            if self.unthrottled_first.get(method, 0) > 0:
                self.unthrottled_first[method] -= 1
                return False
            self.throttled_sagemaker[method] = left - 1
            self.throttled_calls.append(method)
            return True

    def wrap_events(self, client: Any) -> Any:
        original = client.put_events
        injector = self

        def put_events(**kwargs: Any) -> Any:
            injector.put_events_calls += 1
            detail_type = str(kwargs["Entries"][0].get("DetailType"))
            injector.put_events_calls_by_type[detail_type] += 1
            if injector.failed_put_events > 0 and injector.failing_detail_type in (
                None,
                detail_type,
            ):
                injector.failed_put_events -= 1
                return {
                    "FailedEntryCount": 1,
                    "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected fault"}],
                }
            return original(**kwargs)

        client.put_events = put_events
        return client


class _ThrottlingSageMaker:
    """The handlers' SageMaker client, answering chosen calls as SageMaker does when it
    throttles: a ``ThrottlingException``."""

    def __init__(self, client: Any, faults: FaultInjector) -> None:
        self._client = client
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(**kwargs: Any) -> Any:
            if self._faults.throttles(name):
                operation = "".join(part.capitalize() for part in name.split("_"))
                raise client_error(operation, "ThrottlingException", "Rate exceeded")
            return method(**kwargs)

        return call


class OfflineWorkflow:
    """The stack's workflow on this machine. Use as a context manager."""

    def __init__(
        self,
        template: dict[str, Any],
        *,
        scenario: Scenario | None = None,
        engine: EngineFactory | None = None,
        clock: Clock | None = None,
        on_transition: Callable[[str, str], None] | None = None,
    ) -> None:
        self.resolver = Resolver(template, region=REGION, account=ACCOUNT)
        self.scenario = scenario or Scenario()
        self._engine_factory = engine
        self.clock = clock or Clock()
        self.faults = FaultInjector()
        self.on_transition = on_transition
        self.functions: dict[str, Function] = {}
        self.engine: TuningEngine | None = None
        self._stack = ExitStack()
        self._saved_env: dict[str, str | None] = {}
        self._seen_events: dict[str, int] = {}
        self._announced: set[str] = set()
        self.target_results: list[Any] = []

    # -- set-up ----------------------------------------------------------------------------
    def __enter__(self) -> OfflineWorkflow:
        from moto import mock_aws

        self._set_env(
            {
                "AWS_ACCESS_KEY_ID": "offline",
                "AWS_SECRET_ACCESS_KEY": "offline",
                "AWS_SESSION_TOKEN": "offline",
                "AWS_DEFAULT_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "1",
            }
        )
        self._stack.enter_context(
            mock_aws(
                config={
                    "stepfunctions": {"execute_state_machine": True},
                    "lambda": {"use_docker": False},
                }
            )
        )
        self.s3 = boto3.client("s3", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self._create_resources()
        self._stack.enter_context(
            moto_patches.applied(
                moto_patches.Seams(
                    invoke=self._invoke, wait=self._wait_state, sleep=self._retry_pause
                )
            )
        )
        from ntm_tuning import aws
        from ntm_tuning.handlers import _runtime

        # What the handlers send AWS is checked as AWS checks it (offline.strict).
        self._stack.enter_context(strict.strict_handler_clients())
        _runtime.reset()
        engine = (self._engine_factory or self._standin)(self.s3)
        self.engine = engine
        # The events say what played the tuning job (the deployed stack never sets this).
        from ntm_tuning.events import ENGINE_VARIABLE

        engine_name = getattr(engine, "ENGINE", None)
        self._set_env({ENGINE_VARIABLE: engine_name} if engine_name else {})
        if not engine_name:
            os.environ.pop(ENGINE_VARIABLE, None)
        self.folders = LocalFolders()
        self.processing = LocalProcessing(
            self.s3,
            region=REGION,
            account=ACCOUNT,
            folders=self.folders,
            s3_backend=self._s3_backend(),
            on_change=self.clock.wake,
        )
        sagemaker = self.faults.wrap_sagemaker(OfflineSageMaker(engine, self.processing))

        def offline_clients(service: str) -> Any:
            """SageMaker is the engine; EventBridge puts can be made to fail (``faults``)."""
            if service == "sagemaker":
                return sagemaker
            if service == "events":
                return self.faults.wrap_events(
                    strict.strict(boto3.client("events", region_name=REGION))
                )
            return None

        self._stack.enter_context(aws.use_clients(offline_clients))
        self._stack.callback(_runtime.reset)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _standin(self, s3: Any) -> TuningEngine:
        return ScriptedSageMaker(s3, scenario=self.scenario, region=REGION, account=ACCOUNT)

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _physical(self, logical: str) -> str:
        return re.sub(r"[^a-z0-9-]", "", f"{self.resolver.stack_name}-{logical}".lower())[:63]

    def _create_resources(self) -> None:
        r = self.resolver
        arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
        kms = boto3.client("kms", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        for logical in r.resources("AWS::KMS::Key"):
            key = kms.create_key(Description=logical)["KeyMetadata"]
            r.names[logical] = key["KeyId"]
            r.attributes[(logical, "Arn")] = key["Arn"]
        for logical in r.resources("AWS::IAM::Role"):
            role = iam.create_role(
                RoleName=self._physical(logical),
                AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            )["Role"]
            r.names[logical] = role["RoleName"]
            r.attributes[(logical, "Arn")] = role["Arn"]
        for logical in r.resources("AWS::Logs::LogGroup"):
            r.names[logical] = f"/offline/{logical}"
            r.attributes[(logical, "Arn")] = arn.format("logs", f"log-group:/offline/{logical}:*")
        for logical, resource in r.resources("AWS::S3::Bucket").items():
            name = self._physical(logical)
            self.s3.create_bucket(Bucket=name)
            status = (resource["Properties"].get("VersioningConfiguration") or {}).get("Status")
            if status:
                self.s3.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": status}
                )
            r.names[logical] = name
            r.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        for logical, resource in r.resources("AWS::Events::EventBus").items():
            name = r.resolve(resource["Properties"]["Name"])
            bus_arn = self.events.create_event_bus(Name=name)["EventBusArn"]
            r.names[logical] = name
            r.attributes[(logical, "Arn")] = bus_arn
            r.attributes[(logical, "Name")] = name
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for logical, resource in r.resources("AWS::DynamoDB::Table").items():
            props = resource["Properties"]
            name = self._physical(logical)
            table = dynamodb.create_table(
                TableName=name,
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
            )["TableDescription"]
            r.names[logical] = name
            r.attributes[(logical, "Arn")] = table["TableArn"]
        sqs = boto3.client("sqs", region_name=REGION)
        for logical in r.resources("AWS::SQS::Queue"):
            url = sqs.create_queue(QueueName=self._physical(logical))["QueueUrl"]
            r.names[logical] = url
            r.attributes[(logical, "Arn")] = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            r.attributes[(logical, "QueueName")] = self._physical(logical)
        lambda_ = boto3.client("lambda", region_name=REGION)
        for logical, resource in r.resources("AWS::Lambda::Function").items():
            props = resource["Properties"]
            name = self._physical(logical)
            function_arn = arn.format("lambda", f"function:{name}")
            r.names[logical] = name
            r.attributes[(logical, "Arn")] = function_arn
        for logical, resource in r.resources("AWS::Lambda::Function").items():
            props = resource["Properties"]
            environment = {
                key: str(r.resolve(value))
                for key, value in (props.get("Environment") or {}).get("Variables", {}).items()
            }
            self.functions[r.names[logical]] = Function(
                r.names[logical], props["Handler"], environment
            )
            lambda_.create_function(
                FunctionName=r.names[logical],
                Runtime=props["Runtime"],
                Role=r.resolve(props["Role"]),
                Handler=props["Handler"],
                Code={"ZipFile": b"offline: the handler runs in-process"},
                Environment={"Variables": environment},
            )
        # Whatever else the template declares (alarms, topics, dashboards...) is not emulated,
        # but gets a name and an ARN so references to it resolve.
        for logical, resource in r.template["Resources"].items():
            if logical not in r.names and resource["Type"] != "AWS::StepFunctions::StateMachine":
                service = resource["Type"].split("::")[1].lower()
                r.names.setdefault(logical, self._physical(logical))
                r.attributes.setdefault(
                    (logical, "Arn"), arn.format(service, f"{logical.lower()}/{logical}")
                )
        logical, machine = r.only("AWS::StepFunctions::StateMachine")
        props = machine["Properties"]
        definition = r.resolve(props["DefinitionString"])
        self.definition: dict[str, Any] = json.loads(definition)
        self.state_machine_arn = self.sfn.create_state_machine(
            name=self._physical(logical),
            definition=definition,
            roleArn=r.resolve(props["RoleArn"]),
        )["stateMachineArn"]
        r.names[logical] = self.state_machine_arn
        self.rules = {
            logical: r.resolve(resource["Properties"])
            for logical, resource in r.resources("AWS::Events::Rule").items()
        }
        self._capture_results()

    def stack_variable(self, name: str) -> str:
        """A variable of the stack's functions (a bucket, the bus): the value every function
        that has it agrees on."""
        values = {f.environment[name] for f in self.functions.values() if name in f.environment}
        if len(values) != 1:
            found = "no function" if not values else f"the functions disagree: {sorted(values)}"
            raise ValueError(f"{name}: {found}")
        return values.pop()

    def environment_of(self, handler_module: str) -> dict[str, str]:
        """The variables of the function whose handler is in ``handler_module`` (its last
        name, e.g. ``build_tuning_job``)."""
        for function in self.functions.values():
            if function.handler.rpartition(".")[0].rpartition(".")[2] == handler_module:
                return dict(function.environment)
        raise KeyError(f"no function's handler is in a module named {handler_module}")

    def _capture_results(self) -> None:
        """Subscribe to the results bus as a consumer would: a rule and a queue target."""
        self.results_bus = self.stack_variable("EVENT_BUS_NAME")
        self.event_source = self.stack_variable("EVENT_SOURCE")
        self.data_bucket = self.stack_variable("DATA_BUCKET")
        self.request_prefix = self.stack_variable("REQUEST_PREFIX")
        self.artifacts_bucket = self.stack_variable("ARTIFACTS_BUCKET")
        self.queue_url = self.sqs.create_queue(QueueName="offline-results-consumer")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        # Outcomes and progress events go to two queues: most consumers want one or the other.
        self.progress_queue_url = self.sqs.create_queue(QueueName="offline-progress-consumer")[
            "QueueUrl"
        ]
        progress_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.progress_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        for rule, pattern, arn in (
            ("offline-results-consumer", [{"anything-but": PROGRESS}], queue_arn),
            ("offline-progress-consumer", [PROGRESS], progress_arn),
        ):
            self.events.put_rule(
                Name=rule,
                EventBusName=self.results_bus,
                EventPattern=json.dumps({"source": [self.event_source], "detail-type": pattern}),
            )
            self.events.put_targets(
                Rule=rule, EventBusName=self.results_bus, Targets=[{"Id": "consumer", "Arn": arn}]
            )

    def _wait_state(self, seconds: float, stopped: threading.Event) -> None:
        """A Wait state: recorded, then slept on the offline clock (not at all at scale 0)."""
        self.clock.waits.append(seconds)
        if self.clock.scale > 0 or self.clock.hold:
            self.clock.wait(seconds, stopped)

    def _retry_pause(self, seconds: float) -> None:
        """The pause before a Retry's next attempt: recorded, then scaled."""
        self.clock.retries.append(seconds)
        self.clock.pause(seconds)

    # -- the handlers, in-process ------------------------------------------------------------
    def _invoke(self, function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
        name = (
            function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
        )
        function = self.functions[name]
        module_name, _, attribute = function.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        event = json.loads(body) if body else {}
        try:
            # Exactly this function's variables, for this invocation's thread alone.
            with invocation_environment(function.environment):
                result = handler(event, _Context(function))
        except Exception as error:  # the Lambda runtime reports any exception this way
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-3:],
                }
            ).encode()
        return json.dumps(result, default=str).encode()

    # -- deliveries, as EventBridge would make them ----------------------------------------------
    def put_object(self, key: str, body: bytes) -> dict[str, Any]:
        return dict(self.s3.put_object(Bucket=self.data_bucket, Key=key, Body=body))

    def upload_folder(self, folder: Path, prefix: str = "") -> list[str]:
        """Put every file under ``folder`` into the data bucket, keyed ``prefix`` + its path
        relative to the folder; returns the keys.

        The objects go straight into the emulator's store (an S3 request per file would cost
        more than preparing the corpus), and jobs reading that prefix are served the folder
        itself while the bucket holds what was loaded (``LocalFolders``).
        """
        return list(self.folders.load(folder, self.data_bucket, prefix, self._s3_backend()))

    def local_path(self, uri: str) -> Path | None:
        """Where an ``s3://`` location in the data bucket was loaded from, if from a folder."""
        from ntm_tuning.locations import split_uri

        bucket, key = split_uri(uri)
        return self.folders.local_path(bucket, key)

    @staticmethod
    def _s3_backend() -> Any:
        from moto.s3.models import s3_backends

        return s3_backends[ACCOUNT]["aws"]

    def upload_request(self, key: str, body: bytes) -> str | None:
        """Upload a request; start the workflow if the S3 rule matches, as EventBridge would."""
        return self.deliver(self.object_created(key, body), bus="default")

    def object_created(self, key: str, body: bytes) -> dict[str, Any]:
        """Put an object in the data bucket; the ``Object Created`` event S3 sends for it."""
        response = self.put_object(key, body)
        return self.object_created_event(
            key, len(body), response["ETag"].strip('"'), response.get("VersionId")
        )

    def object_created_event(
        self, key: str, size: int, etag: str, version_id: str | None
    ) -> dict[str, Any]:
        """The ``Object Created`` event S3 sends to EventBridge for an object of the data bucket."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT,
            "time": _now(),
            "region": REGION,
            "resources": [f"arn:aws:s3:::{self.data_bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": self.data_bucket},
                "object": {
                    "key": key,
                    "size": size,
                    "etag": etag,
                    "version-id": version_id,
                    "sequencer": f"{int(time.time() * 1e6):X}",
                },
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": ACCOUNT,
                "reason": "PutObject",
            },
        }

    def request_event(self, request: Any, source: str = "com.example.offline") -> dict[str, Any]:
        """An ``NTM Tuning Requested`` event as another system would put it on the bus."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "NTM Tuning Requested",
            "source": source,
            "account": ACCOUNT,
            "time": _now(),
            "region": REGION,
            "resources": [],
            "detail": request,
        }

    def put_request_event(self, request: Any, source: str = "com.example.offline") -> str | None:
        """Put an ``NTM Tuning Requested`` event on the results bus from another system."""
        return self.deliver(self.request_event(request, source), bus=self.results_bus)

    def deliver(self, event: dict[str, Any], *, bus: str) -> str | None:
        """Start an execution for each rule on ``bus`` whose pattern matches ``event``."""
        started = None
        for rule in self.rules.values():
            if rule.get("EventBusName", "default") != bus:
                continue
            if not matches(rule["EventPattern"], event):
                continue
            for target in rule["Targets"]:
                payload = transform(event, target.get("InputTransformer"))
                if target["Arn"] == self.state_machine_arn:
                    started = self.sfn.start_execution(
                        stateMachineArn=self.state_machine_arn,
                        name=str(uuid.uuid4()),
                        input=payload,
                    )["executionArn"]
                elif target["Arn"].startswith("arn:aws:lambda:"):
                    # An asynchronous invocation, as EventBridge makes it.
                    headers: dict[str, str] = {}
                    self.target_results.append(
                        json.loads(self._invoke(target["Arn"], payload, headers))
                    )
                    if headers:
                        raise RuntimeError(f"rule target {target['Arn']} failed: {payload}")
        return started

    # -- results ----------------------------------------------------------------------------------
    def wait(self, execution_arn: str, timeout: float = 60.0) -> Execution:
        """Block until the execution ends; report its transitions as they happen."""
        deadline = time.monotonic() + timeout
        pause = 0.01
        while True:
            described = self.sfn.describe_execution(executionArn=execution_arn)
            ended = described["status"] in TERMINAL
            # The history is costly to read: only while someone follows it, and at the end.
            history = self._history(execution_arn) if ended or self.on_transition else []
            if self.on_transition:
                seen = self._seen_events.get(execution_arn, 0)
                for name in history[seen:]:
                    self.on_transition(execution_arn, name)
                self._seen_events[execution_arn] = len(history)
            if ended:
                self._announce_end(described)
                output = described.get("output")
                return Execution(
                    arn=execution_arn,
                    status=described["status"],
                    output=json.loads(output) if output else None,
                    error=described.get("error"),
                    cause=described.get("cause"),
                    states=history,
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {described['status']} after {timeout}s")
            time.sleep(pause)
            pause = min(pause * 1.5, 0.25)

    def wait_for_state(self, execution_arn: str, state: str, timeout: float = 30.0) -> None:
        """Block until the execution has entered ``state``."""
        deadline = time.monotonic() + timeout
        while state not in self._history(execution_arn):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} never entered {state!r}")
            time.sleep(0.02)

    def ledger_holders(self) -> int:
        """How many executions hold a tuning-job slot in the ledger."""
        from ntm_tuning.ledger import Ledger

        table = self.stack_variable("LEDGER_TABLE")
        return Ledger(table, dynamodb=boto3.client("dynamodb", region_name=REGION)).holders()

    def abort(self, execution_arn: str) -> Execution:
        """Stop an execution, as an operator would from the console."""
        self.sfn.stop_execution(executionArn=execution_arn, error="Aborted", cause="offline abort")
        return self.wait(execution_arn)

    def _announce_end(self, described: dict[str, Any]) -> None:
        """Step Functions tells EventBridge when an execution ends; moto does not, so do it."""
        arn = described["executionArn"]
        if arn in self._announced:
            return
        self._announced.add(arn)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": ACCOUNT,
            "time": _now(),
            "region": REGION,
            "resources": [arn],
            "detail": {
                "executionArn": arn,
                "stateMachineArn": self.state_machine_arn,
                "name": described.get("name"),
                "status": described["status"],
                "input": described.get("input"),
                "output": described.get("output"),
                "error": described.get("error"),
                "cause": described.get("cause"),
            },
        }
        self.deliver(event, bus="default")

    def _history(self, execution_arn: str) -> list[str]:
        events = self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)[
            "events"
        ]
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in events
            if "stateEnteredEventDetails" in event
        ]

    def published(self) -> list[dict[str, Any]]:
        """Outcome events (all but progress) delivered since the last call, oldest first."""
        return self._drain(self.queue_url)

    def progress(self) -> list[dict[str, Any]]:
        """``NTM Tuning Job Progress`` events delivered since the last call, oldest first."""
        return self._drain(self.progress_queue_url)

    def _drain(self, queue_url: str) -> list[dict[str, Any]]:
        found = []
        while messages := self.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        # Events put in the same second keep the order they were put in (a stable sort).
        return sorted(found, key=lambda e: e["time"])

    def objects(self, bucket: str, prefix: str = "") -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]


class _Context:
    """What Powertools reads from the Lambda context."""

    def __init__(self, function: Function) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's pattern matching (TestEventPattern), as moto implements it."""
    from moto.events.models import EventPattern, EventPatternParser

    raw = json.dumps(pattern)
    return EventPattern(raw, EventPatternParser(raw).parse()).matches_event(event)  # type: ignore[arg-type]


_PLACEHOLDER = re.compile(r'"<([\w.-]+)>"|<([\w.-]+)>')


def transform(event: dict[str, Any], transformer: dict[str, Any] | None) -> str:
    """Apply an EventBridge input transformer: values from the paths fill the template,
    as JSON where the placeholder stands alone, as text inside a quoted string."""
    if not transformer:
        return json.dumps(event)
    values = {name: _path(event, path) for name, path in transformer["InputPathsMap"].items()}

    def fill(match: re.Match[str]) -> str:
        quoted, bare = match.group(1), match.group(2)
        if quoted is not None:
            value = values.get(quoted)
            return json.dumps(value if isinstance(value, str) else json.dumps(value))
        return json.dumps(values.get(bare))

    return _PLACEHOLDER.sub(fill, transformer["InputTemplate"])


def _path(event: dict[str, Any], path: str) -> Any:
    node: Any = event
    for part in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
