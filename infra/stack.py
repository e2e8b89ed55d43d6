"""The NTM tuning stack: composes the units and wires them together."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from infra.config import OUTPUT_PREFIX, REPORT_PREFIX, PipelineConfig
from infra.grants import grant_object_put, grant_object_read, grant_sagemaker
from infra.handlers import TuningHandlers
from infra.results_bus import ResultsBus
from infra.sagemaker_role import SageMakerExecutionRole
from infra.storage import Storage
from infra.training_image import TrainingImage
from infra.triggers import Triggers
from infra.workflow import TuningWorkflow

DESCRIBE_TUNING_JOB = "sagemaker:DescribeHyperParameterTuningJob"


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

        handlers = TuningHandlers(
            self,
            "Handlers",
            environment={
                "POWERTOOLS_SERVICE_NAME": "ntm-tuning",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "DATA_BUCKET": storage.data_bucket.bucket_name,
                "ARTIFACTS_BUCKET": storage.artifacts_bucket.bucket_name,
                "KMS_KEY_ARN": storage.key.key_arn,
                "SAGEMAKER_ROLE_ARN": sagemaker.role.role_arn,
                "TRAINING_IMAGE": image.image_uri,
                "EVENT_BUS_NAME": results.bus.event_bus_name,
                "EVENT_SOURCE": config.event_source,
                "REQUEST_PREFIX": config.request_prefix,
                "OUTPUT_PREFIX": OUTPUT_PREFIX,
                "REPORT_PREFIX": REPORT_PREFIX,
                "TUNING_DEFAULTS": json.dumps(config.tuning.model_dump(mode="json")),
            },
            powertools_layer_parameter=config.powertools_layer_parameter,
            key=storage.key,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )

        grant_object_read(handlers.validate, bucket=storage.data_bucket, key=storage.key)
        grant_sagemaker(
            handlers.start,
            tuning_job_actions=[
                "sagemaker:CreateHyperParameterTuningJob",
                DESCRIBE_TUNING_JOB,
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            ],
            # Tags on the tuning job are copied onto every training job it starts.
            training_job_actions=["sagemaker:AddTags"],
        )
        sagemaker.grant_pass_to_sagemaker(handlers.start)
        grant_sagemaker(handlers.poll, tuning_job_actions=[DESCRIBE_TUNING_JOB])
        grant_sagemaker(
            handlers.summarize,
            tuning_job_actions=[
                DESCRIBE_TUNING_JOB,
                "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
            ],
            training_job_actions=["sagemaker:DescribeTrainingJob"],
        )
        grant_object_put(
            handlers.summarize,
            bucket=storage.artifacts_bucket,
            key=storage.key,
            key_prefix=REPORT_PREFIX,
        )
        results.bus.grant_put_events_to(handlers.publish)
        grant_sagemaker(
            handlers.stop,
            tuning_job_actions=["sagemaker:StopHyperParameterTuningJob", DESCRIBE_TUNING_JOB],
        )

        workflow = TuningWorkflow(
            self,
            "Workflow",
            validate=handlers.validate,
            start=handlers.start,
            poll=handlers.poll,
            summarize=handlers.summarize,
            publish=handlers.publish,
            stop=handlers.stop,
            poll_interval_seconds=config.poll_interval_seconds,
            key=storage.key,
            log_retention_days=config.log_retention_days,
            removal_policy=removal_policy,
        )
        Triggers(
            self,
            "Triggers",
            state_machine=workflow.state_machine,
            data_bucket=storage.data_bucket,
            request_prefix=config.request_prefix,
            results_bus=results.bus,
            event_source=config.event_source,
        )

        outputs = {
            "DataBucketName": storage.data_bucket.bucket_name,
            "ArtifactsBucketName": storage.artifacts_bucket.bucket_name,
            "ResultsBusName": results.bus.event_bus_name,
            "ResultsBusArn": results.bus.event_bus_arn,
            "StateMachineArn": workflow.state_machine.state_machine_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
