"""The NTM tuning stack: composes the units and wires them together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct
from ntm_tuning.settings import DeploymentSettings, Settings

from infra.config import OUTPUT_PREFIX, PipelineConfig
from infra.dataset_preparation import DatasetPreparation
from infra.dead_letters import DeadLetterQueues
from infra.functions import FUNCTIONS, Resources
from infra.handlers import TuningHandlers
from infra.ledger import LedgerTable
from infra.monitoring import METRICS_NAMESPACE, Monitoring, WatchedRule
from infra.orphan_cleanup import OrphanCleanup
from infra.results_bus import ResultsBus
from infra.sagemaker_role import SageMakerExecutionRole
from infra.storage import Storage
from infra.training_image import TrainingImage
from infra.triggers import Triggers
from infra.workflow import TuningWorkflow

SERVICE_NAME = "ntm-tuning"
# What every function finds in its environment besides its own settings.
COMMON_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def handler_settings(
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
) -> Settings:
    """The deployment's settings: the configured ones the handlers share with the stack, and
    the names of the stack's resources. Each function gets the variables of those it reads."""
    return Settings(
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


def handler_environment(config: PipelineConfig, **names: str) -> dict[str, str]:
    """Every variable a handler may be given: the common ones and every setting's."""
    return {**COMMON_ENVIRONMENT, **handler_settings(config, **names).environment()}


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

        ledger = LedgerTable(self, "Ledger", key=storage.key, removal_policy=removal_policy)
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
            environment=COMMON_ENVIRONMENT,
            settings=handler_settings(
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

        resources = Resources(
            config=config,
            storage=storage,
            bus=results.bus,
            ledger=ledger,
            training_role=sagemaker,
            preparation=preparation,
        )
        for spec in FUNCTIONS:
            for grant in spec.grants:
                grant.apply(handlers.functions[spec.name], resources)

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
