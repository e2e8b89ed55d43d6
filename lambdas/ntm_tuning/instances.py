"""Training instance types with local NVMe storage, and how much of it they have.

SageMaker mounts an instance's local NVMe storage instead of an EBS volume on the types that
have it: it encrypts that storage itself and refuses a ``VolumeKmsKeyId``, and it refuses a
``VolumeSizeInGB`` greater than the storage's total size (SageMaker API reference:
ResourceConfig and HyperParameterTuningResourceConfig, ``VolumeSizeInGB``; the same rule for
ProcessingClusterConfig). The sizes are the instance store totals of the EC2 instance types
(Amazon EC2 User Guide, "Instance store volume limits for EC2 instances"), e.g. ml.g4dn.xlarge
125 GB and ml.g5.xlarge 250 GB; ml.p3.2xlarge has none (EBS only).

This is the one table of these facts: the request validation, the deployment's configuration
and the offline SageMaker all read it.
"""

from __future__ import annotations

# Families whose instances all have local NVMe storage.
INSTANCE_STORAGE_FAMILIES = frozenset(
    {
        "c5d",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "m5d",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "r5d",
        "trn1",
    }
)

# Total local NVMe storage in GB, per instance type. An instance type of a family above that
# is missing here cannot be allowed by a deployment (synth says so) until its size is added.
LOCAL_STORAGE_GB: dict[str, int] = {
    "ml.g4dn.xlarge": 125,
    "ml.g4dn.2xlarge": 225,
    "ml.g4dn.4xlarge": 225,
    "ml.g4dn.8xlarge": 900,
    "ml.g4dn.12xlarge": 900,
    "ml.g4dn.16xlarge": 900,
    "ml.g5.xlarge": 250,
    "ml.g5.2xlarge": 450,
    "ml.g5.4xlarge": 600,
    "ml.g5.8xlarge": 900,
    "ml.g5.12xlarge": 3800,
    "ml.g5.16xlarge": 1900,
    "ml.g5.24xlarge": 3800,
    "ml.g5.48xlarge": 7600,
    "ml.p3dn.24xlarge": 1800,
    "ml.p4d.24xlarge": 8000,
    "ml.p4de.24xlarge": 8000,
}


def has_instance_storage(instance_type: str) -> bool:
    family = instance_type.removeprefix("ml.").split(".")[0]
    return family in INSTANCE_STORAGE_FAMILIES


def local_storage_gb(instance_type: str) -> int | None:
    """The most ``VolumeSizeInGB`` may be on this type; None when it has no local storage
    (an EBS volume of any size SageMaker allows) or its size is not in the table."""
    return LOCAL_STORAGE_GB.get(instance_type)


def volume_problem(instance_type: str, volume_size_gb: int) -> str | None:
    """Why SageMaker would refuse this volume size on this instance type, or None."""
    limit = local_storage_gb(instance_type)
    if limit is not None and volume_size_gb > limit:
        return (
            f"{volume_size_gb} GB is more than the {limit} GB of local NVMe storage of "
            f"{instance_type}, which SageMaker uses instead of a volume; at most {limit}"
        )
    return None
