"""What a training job can be refused for, kept free of heavy imports so a worker process
can tell a client error from an algorithm error without loading numpy or torch."""

from __future__ import annotations


class HyperparameterError(ValueError):
    """A hyperparameter the algorithm refuses; the message names it."""


class DataError(ValueError):
    """Data the algorithm cannot use; the message says which file and why."""
