"""The NTM tuning stack: composes the units and wires them together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct
from ntm_tuning.settings import DeploymentSettings, Settings

from infra.config import OUTPUT_PREFIX, REPORT_PREFIX, PipelineConfig
from infra.dataset_preparation import DatasetPreparation
from infra.dead_letters import DeadLetterQueues
from infra.grants import (
    grant_object_put,
    grant_object_read,
    grant_prefix_read,
    grant_sagemaker,
    grant_training_logs_read,
)
from infra.handlers import TuningHandlers
from infra.ledger import Ledger
from infra.monitoring import METRICS_NAMESPACE, Monitoring, WatchedRule
from infra.orphan_cleanup import OrphanCleanup
from infra.results_bus import ResultsBus
from infra.sagemaker_role import SageMakerExecutionRole
from infra.storage import Storage
from infra.training_image import TrainingImage
from infra.triggers import Triggers
from infra.workflow import TuningWorkflow

DESCRIBE_TUNING_JOB = "sagemaker:DescribeHyperParameterTuningJob"
DESCRIBE_PROCESSING_JOB = "sagemaker:DescribeProcessingJob"
SERVICE_NAME = "ntm-tuning"

# Single-item ledger operations per handler (ntm_tuning.ledger): request claims (validate),
# job slots (admit, release, and start when SageMaker is out of capacity), job records (validate,
# start, prepare_start), terminal events (publish), and the clean-up of executions that ended
# early.
LEDGER_ACTIONS = {
    "validate_request": ("dynamodb:GetItem", "dynamodb:PutItem"),
    "start_tuning_job": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    # PutItem: Ledger.acquire creates the capacity item on first use (conditional put).
    "acquire_capacity": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    "release_capacity": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
    # Reads the last progress event published for its execution, records the next one.
    "describe_tuning_job": ("dynamodb:GetItem", "dynamodb:UpdateItem"),
    "clean_up": ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    # Reserves and records the request's one terminal event (conditional updates).
    "publish_outcome": ("dynamodb:UpdateItem",),
    # Records the execution's processing job (a put of its job record), so that the clean-up
    # of an execution that ended early can stop it.
    "start_dataset_preparation": ("dynamodb:PutItem",),
}


def handler_environment(
    config: PipelineConfig,
    *,
    data_bucket: str,
    artifacts_bucket: str,
    kms_key_arn: str,
    sagemaker_role_arn: str,
    training_image: str,
    event_bus_name: str,
    ledger_table: str,
    processing_image: str,
    processing_role_arn: str,
    preparation_code_uri: str,
) -> dict[str, str]:
    """What every handler finds in its environment (``Settings.from_env`` reads it back): the
    configured settings they share with the stack, and the names of the stack's resources."""
    settings = Settings(
        **{name: getattr(config, name) for name in DeploymentSettings.model_fields},
        data_bucket=data_bucket,
        artifacts_bucket=artifacts_bucket,
        kms_key_arn=kms_key_arn,
        sagemaker_role_arn=sagemaker_role_arn,
        training_image=training_image,
        event_bus_name=event_bus_name,
        ledger_table=ledger_table,
        processing_image=processing_image,
        processing_role_arn=processing_role_arn,
        preparation_code_uri=preparation_code_uri,
    )
    return {
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        **settings.environment(),
    }


class NtmTuningStack(Stack):
    """Documents landed in S3 -> SageMaker NTM tuning job -> best job on an EventBridge bus."""

    def __init__(self, scope: Construct, id: str, *, config: PipelineConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        removal_policy = (
            RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
        )

        storage = Storage(self, "Storage", removal_policy=removal_policy)
        results = ResultsBus(
            self,
            "Results",
            bus_name=config.results_bus_name,
            archive_retention_days=config.archive_retention_days,
        )
        image = TrainingImage(self, "TrainingImage")
        sagemaker = SageMakerExecutionRole(
            self,
            "SageMaker",
            data_bucket=storage.data_bucket,
            artifacts_bucket=storage.artifacts_bucket,
            output_prefix=OUTPUT_PREFIX,
            key=storage.key,
            image_repository_arn=image.repository_arn,
        )

        preparation = DatasetPreparation(
            self,
            "DatasetPreparation",
            data_bucket=storage.data_bucket,
            prepared_prefix=config.prepared_prefix,
            key=storage.key,
        )

        ledger = Ledger(self, "Ledger", key=storage.key, removal_policy=removal_policy)
        dead_letters = DeadLetterQueues(
            self, "DeadLetters", key=storage.key, removal_policy=removal_policy
        )
        request_dlq = dead_letters.queue(
            "Requests", purpose="tuning requests EventBridge could not start a workflow for"
        )
        cleanup_dlq = dead_letters.queue(
            "Cleanups",
            purpose="executions that ended early and could not be cleaned up",
        )

        handlers = TuningHandlers(
            self,
            "Handlers",
            environment=handler_environment(
                config,
                data_bucket=storage.data_bucket.bucket_name,
                artifacts_bucket=storage.artifacts_bucket.bucket_name,
                kms_key_arn=storage.key.key_arn,
                sagemaker_role_arn=sagemaker.role.role_arn,
                training_image=image.image_uri,
                event_bus_name=results.bus.event_bus_name,
                ledger_table=ledger.table.table_name,
                processing_image=preparation.image.image_uri,
                processing_role_arn=preparation.role.role_arn,
                preparation_code_uri=preparation.code_uri,
            ),
            powertools_layer_parameter=config.powertools_layer_parameter,
            powertools_layer_arn=config.powertools_layer_arn,
            key=storage.key,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )

        grant_object_read(
            handlers.functions["validate_request"], bucket=storage.data_bucket, key=storage.key
        )
        # Warm-start parents are described (status, hyperparameters, tags) before starting.
        for checks_parents in (
            handlers.functions["validate_request"],
            handlers.functions["build_tuning_job"],
        ):
            grant_sagemaker(
                checks_parents, tuning_job_actions=[DESCRIBE_TUNING_JOB, "sagemaker:ListTags"]
            )
        grant_object_put(
            handlers.functions["validate_request"],
            bucket=storage.data_bucket,
            key=storage.key,
            key_prefix=config.prepared_prefix,
            reason=(
                "Writes a corpus request's settings (request.json, config.json) for its dataset "
                f"preparation job under the {config.prepared_prefix} prefix only."
            ),
        )
        grant_sagemaker(
            handlers.functions["start_tuning_job"],
            tuning_job_actions=[
                "sagemaker:CreateHyperParameterTuningJob",
                DESCRIBE_TUNING_JOB,
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            ],
            # Tags on the tuning job are copied onto every training job it starts.
            training_job_actions=["sagemaker:AddTags"],
        )
        sagemaker.grant_pass_to_sagemaker(handlers.functions["start_tuning_job"])
        # The poll publishes progress events: billable time so far comes from the training jobs.
        grant_sagemaker(
            handlers.functions["describe_tuning_job"],
            tuning_job_actions=[
                DESCRIBE_TUNING_JOB,
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            ],
        )
        results.bus.grant_put_events_to(handlers.functions["describe_tuning_job"])
        grant_sagemaker(
            handlers.functions["summarize_results"],
            tuning_job_actions=[
                DESCRIBE_TUNING_JOB,
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            ],
            training_job_actions=["sagemaker:DescribeTrainingJob"],
        )
        grant_object_put(
            handlers.functions["summarize_results"],
            bucket=storage.artifacts_bucket,
            key=storage.key,
            key_prefix=REPORT_PREFIX,
        )
        # Topics: every training job's log, and the held-out channel and vocabulary for NPMI.
        grant_training_logs_read(handlers.functions["summarize_results"])
        grant_prefix_read(
            handlers.functions["summarize_results"],
            bucket=storage.data_bucket,
            key=storage.key,
            key_prefix="",
            reason=(
                "Streams the tuned dataset's test (or validation) channel and reads its "
                "vocab.txt to score the topics (NPMI); requests may name datasets anywhere in "
                "the data bucket, and the wildcard is limited to that bucket."
            ),
        )
        results.bus.grant_put_events_to(handlers.functions["publish_outcome"])
        grant_sagemaker(
            handlers.functions["stop_tuning_job"],
            tuning_job_actions=["sagemaker:StopHyperParameterTuningJob", DESCRIBE_TUNING_JOB],
        )
        for name, actions in LEDGER_ACTIONS.items():
            ledger.grant(handlers.functions[name], actions)
        grant_sagemaker(
            handlers.functions["clean_up"],
            tuning_job_actions=[DESCRIBE_TUNING_JOB, "sagemaker:StopHyperParameterTuningJob"],
            # An aborted execution's dataset preparation job is stopped too.
            processing_job_actions=[DESCRIBE_PROCESSING_JOB, "sagemaker:StopProcessingJob"],
        )

        # Dataset preparation: start the processing job (validation wrote its config file under
        # the prepared prefix), watch it, then build the tuning job from what it wrote.
        grant_sagemaker(
            handlers.functions["start_dataset_preparation"],
            processing_job_actions=[
                "sagemaker:CreateProcessingJob",
                DESCRIBE_PROCESSING_JOB,
                "sagemaker:AddTags",
            ],
        )
        preparation.grant_pass_to_sagemaker(handlers.functions["start_dataset_preparation"])
        grant_sagemaker(
            handlers.functions["describe_dataset_preparation"],
            processing_job_actions=[DESCRIBE_PROCESSING_JOB],
        )
        grant_prefix_read(
            handlers.functions["build_tuning_job"],
            bucket=storage.data_bucket,
            key=storage.key,
            key_prefix=config.prepared_prefix,
            reason=(
                "Reads what a dataset preparation job wrote (dataset.json, vocab.txt) under "
                f"the {config.prepared_prefix} prefix only."
            ),
        )
        results.bus.grant_put_events_to(handlers.functions["clean_up"])

        workflow = TuningWorkflow(
            self,
            "Workflow",
            functions=handlers.functions,
            poll_interval_seconds=config.poll_interval_seconds,
            capacity_wait_seconds=config.capacity_wait_seconds,
            key=storage.key,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )
        triggers = Triggers(
            self,
            "Triggers",
            state_machine=workflow.state_machine,
            data_bucket=storage.data_bucket,
            request_prefix=config.request_prefix,
            results_bus=results.bus,
            event_source=config.event_source,
            dead_letter_queue=request_dlq,
        )
        cleanup = OrphanCleanup(
            self,
            "OrphanCleanup",
            state_machine=workflow.state_machine,
            function=handlers.functions["clean_up"],
            dead_letters=dead_letters,
            dead_letter_queue=cleanup_dlq,
        )
        monitoring = Monitoring(
            self,
            "Monitoring",
            key=storage.key,
            alarm_email=config.alarm_email,
            service_name=SERVICE_NAME,
            state_machine=workflow.state_machine,
            functions=handlers.functions,
            queues=dead_letters.queues,
            rules={
                "RequestUploaded": WatchedRule(triggers.request_uploaded),
                "RequestEvent": WatchedRule(triggers.request_event, results.bus.event_bus_name),
                "OrphanCleanup": WatchedRule(cleanup.rule),
            },
        )

        outputs = {
            "DataBucketName": storage.data_bucket.bucket_name,
            "ArtifactsBucketName": storage.artifacts_bucket.bucket_name,
            "ResultsBusName": results.bus.event_bus_name,
            "ResultsBusArn": results.bus.event_bus_arn,
            "StateMachineArn": workflow.state_machine.state_machine_arn,
            "LedgerTableName": ledger.table.table_name,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "DashboardName": monitoring.dashboard.dashboard_name,
            "RequestDeadLetterQueueUrl": request_dlq.queue_url,
            "CleanupDeadLetterQueueUrl": cleanup_dlq.queue_url,
            # What a client (the ntm-tuning CLI) needs to submit a request.
            "RequestPrefix": config.request_prefix,
            "EventSource": config.event_source,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
