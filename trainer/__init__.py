"""A local stand-in for SageMaker's built-in Neural Topic Model, and its tuner's parts.

- ``trainer.hyperparameters``: NTM's fifteen hyperparameters, from SageMaker's strings.
- ``trainer.data``: recordIO-protobuf and CSV channels as a sparse corpus (numpy only).
- ``trainer.quality``: NPMI coherence and topic uniqueness (numpy only).
- ``trainer.model`` and ``trainer.train``: the PyTorch model, its training loop, the artifact.
- ``trainer.search``: SageMaker tuning configuration mapped onto Optuna.
- ``trainer.worker``: one training job in a worker process, reporting each epoch to the tuner.

Importing the package imports neither torch nor optuna; the modules that need them do.
"""
