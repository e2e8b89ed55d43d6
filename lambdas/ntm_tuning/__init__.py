"""Tuning SageMaker's Neural Topic Model: request contract, job builder and handlers."""
