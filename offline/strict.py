"""The offline world refuses what AWS refuses.

Every request the handlers send is checked against the service's own model (botocore's
JSON description of the API, the same one AWS's SDKs are generated from), including the
constraints botocore's client-side ``ParamValidator`` leaves to the service: a string's
``pattern``, ``enum`` and ``max`` length, a list's or map's ``min``/``max`` size, a number's
``max``. A refused call raises the ``ClientError`` AWS answers with: ``ValidationException``,
and a message in AWS's own wording ("Value '...' at '...' failed to satisfy constraint: ...").

Service limits that are not in the model are added where they are documented:

- EventBridge PutEvents: the entries of one request must total less than 256 KB, each entry
  counted as "Calculating Amazon EventBridge PutEvents event entry size" describes (Time 14
  bytes; Source, DetailType, Detail and each Resources entry their UTF-8 bytes); over it AWS
  fails the whole call with ``ValidationException`` "Total size of the entries in the
  request is over the limit."
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html)

The models' patterns are Java regular expressions, matched against the whole value (Java's
``Matcher.matches``), with Unicode properties such as ``\\p{L}``; the ``regex`` package reads
them, once UTF-16 surrogate pairs written as ``\\uD800\\uDC00`` are turned into code points.
Lengths are counted as Java counts them, in UTF-16 code units.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import regex
from botocore.exceptions import ClientError
from botocore.model import OperationModel, Shape
from botocore.session import Session
from botocore.validate import ParamValidator

PUT_EVENTS_LIMIT = 256 * 1024
PUT_EVENTS_TIME_BYTES = 14
_SURROGATE_PAIR = regex.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", regex.IGNORECASE)


def client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@cache
def service_model(service: str) -> Any:
    return Session().get_service_model(service)


@cache
def java_pattern(pattern: str) -> regex.Pattern[str]:
    """A service model's (Java) pattern, compiled for whole-value matching."""

    def code_point(match: regex.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"

    return regex.compile(_SURROGATE_PAIR.sub(code_point, pattern))


def java_length(text: str) -> int:
    """String.length(): UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _quoted(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 100 else text[:100] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def constraint_errors(shape: Shape, value: Any, path: str) -> list[str]:
    """What the service refuses in ``value`` beyond what botocore checks on the client.

    Values of the wrong type are skipped here: botocore's own validation reports them.
    """
    errors: list[str] = []
    meta = shape.metadata

    def refuse(rule: str) -> None:
        errors.append(f"Value '{_quoted(value)}' at '{path}' failed to satisfy constraint: {rule}")

    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            if name in value:
                errors.extend(constraint_errors(member, value[name], _join(path, name)))
    elif kind == "list" and isinstance(value, list | tuple):
        if "max" in meta and len(value) > meta["max"]:
            refuse(f"Member must have length less than or equal to {meta['max']}")
        for index, item in enumerate(value):
            errors.extend(constraint_errors(shape.member, item, f"{path}[{index}]"))  # type: ignore[attr-defined]
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            refuse(f"Member must have length less than or equal to {meta['max']}")
        if "min" in meta and len(value) < meta["min"]:
            refuse(f"Member must have length greater than or equal to {meta['min']}")
        for key, item in value.items():
            errors.extend(constraint_errors(shape.key, key, _join(path, "key")))  # type: ignore[attr-defined]
            errors.extend(constraint_errors(shape.value, item, _join(path, str(key))))  # type: ignore[attr-defined]
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and java_length(value) > meta["max"]:
            refuse(f"Member must have length less than or equal to {meta['max']}")
        if "pattern" in meta and not java_pattern(meta["pattern"]).fullmatch(value):
            refuse(f"Member must satisfy regular expression pattern: {meta['pattern']}")
        enum = meta.get("enum")
        if enum and value not in enum:
            refuse(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    elif (
        kind in ("integer", "long", "float", "double")
        and isinstance(value, int | float)
        and "max" in meta
        and value > meta["max"]
    ):
        refuse(f"Member must have value less than or equal to {meta['max']}")
    return errors


def _service_limits(service: str, operation: str, params: dict[str, Any]) -> ClientError | None:
    if service == "events" and operation == "PutEvents":
        total = sum(put_events_entry_size(entry) for entry in params.get("Entries") or [])
        if total >= PUT_EVENTS_LIMIT:
            return client_error(
                operation,
                "ValidationException",
                "Total size of the entries in the request is over the limit.",
            )
    return None


def put_events_entry_size(entry: dict[str, Any]) -> int:
    """A PutEvents entry's size, as EventBridge counts it (see the module's docstring)."""
    size = PUT_EVENTS_TIME_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        if entry.get(name) is not None:
            size += len(str(entry[name]).encode("utf-8"))
    for resource in entry.get("Resources") or []:
        if resource is not None:
            size += len(str(resource).encode("utf-8"))
    return size


def refusal(service: str, operation: OperationModel, params: dict[str, Any]) -> ClientError | None:
    """The error AWS answers ``params`` with, or None when it accepts them."""
    shape = operation.input_shape
    errors = constraint_errors(shape, params, "") if shape is not None else []
    if errors:
        count = len(errors)
        return client_error(
            operation.name,
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors),
        )
    return _service_limits(service, operation.name, params)


def check(service: str, operation: str, params: dict[str, Any]) -> None:
    """Refuse ``params`` as the service would, client-side checks included (for stand-ins
    that serve an API themselves rather than through a botocore client)."""
    model = service_model(service).operation_model(operation)
    if model.input_shape is not None:
        report = ParamValidator().validate(params, model.input_shape)
        if report.has_errors():
            raise client_error(operation, "ValidationException", report.generate_report())
    error = refusal(service, model, params)
    if error is not None:
        raise error


def strict(client: Any) -> Any:
    """Make a botocore client refuse, before sending, what its service would refuse."""
    service = client.meta.service_model.service_name

    def before_parameter_build(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        error = refusal(service, model, params)
        if error is not None:
            raise error

    client.meta.events.register("before-parameter-build", before_parameter_build)
    return client


@contextmanager
def strict_handler_clients() -> Iterator[None]:
    """While open, every AWS client the handlers get (``ntm_tuning.aws.client``) is strict."""
    from ntm_tuning import aws

    with aws.use_clients(lambda service: strict(aws.default_client(service))):
        yield
