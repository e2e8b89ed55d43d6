"""The environment variables a handler reads its configuration from.

In Lambda they are the process's (``os.environ``): each process runs one function, with that
function's ``Environment.Variables``. The offline runtime runs every function of the stack in
one process, from many threads at once, so it gives each invocation its own function's
variables instead: inside ``use(variables)``, ``variables()`` is that mapping, in that thread
only (a context variable), and what is cached from it (``per_environment``) is cached for
that environment alone. Outside any ``use`` block, both behave as they do in Lambda.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import update_wrapper
from typing import Generic, TypeVar

T = TypeVar("T")


class Environment(Mapping[str, str]):
    """A frozen set of variables: equal (and hashed alike) when the variables are."""

    __slots__ = ("_hash", "_variables")

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = dict(variables)
        self._hash = hash(frozenset(self._variables.items()))

    def __getitem__(self, name: str) -> str:
        return self._variables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Environment):
            return self._hash == other._hash and self._variables == other._variables
        return NotImplemented

    def __repr__(self) -> str:
        return f"Environment({sorted(self._variables)})"


_current: ContextVar[Environment | None] = ContextVar("ntm_tuning_environment", default=None)


def variables() -> Mapping[str, str]:
    """The variables of the invocation running in this thread, else the process's."""
    current = _current.get()
    return os.environ if current is None else current


@contextmanager
def use(variables: Mapping[str, str]) -> Iterator[Environment]:
    """Run the block (in this thread) with exactly ``variables`` as its environment."""
    environment = variables if isinstance(variables, Environment) else Environment(variables)
    token = _current.set(environment)
    try:
        yield environment
    finally:
        _current.reset(token)


class PerEnvironment(Generic[T]):
    """A function of no arguments, called once per environment (see ``per_environment``)."""

    def __init__(self, function: Callable[[], T]) -> None:
        self._function = function
        self._values: dict[Environment | None, T] = {}
        self._lock = threading.Lock()
        update_wrapper(self, function)

    def __call__(self) -> T:
        key = _current.get()
        try:
            return self._values[key]
        except KeyError:
            pass
        value = self._function()
        with self._lock:
            return self._values.setdefault(key, value)

    def cache_clear(self) -> None:
        with self._lock:
            self._values.clear()


def per_environment(function: Callable[[], T]) -> PerEnvironment[T]:
    """Cache ``function()`` as ``functools.lru_cache(maxsize=1)`` would in Lambda (one
    value for the process), and once for each environment given with ``use``."""
    return PerEnvironment(function)
