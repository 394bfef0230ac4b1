"""Asks boto3 what it makes of the sandbox's throttling answers: prints one JSON object for AwsRealismTests.

The test cues one ssm-throttling and one ec2-throttling fault first; retries are off so each call sees it.
"""
import json
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

E = os.environ


def client(service):
    return boto3.client(
        service,
        endpoint_url=E["SANDBOX_AWS_ENDPOINT"],
        region_name=E["SANDBOX_AWS_REGION"],
        aws_access_key_id=E["SANDBOX_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=E["SANDBOX_AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def error_of(call):
    try:
        call()
        return None
    except ClientError as e:
        return {
            "code": e.response["Error"]["Code"],
            "message": e.response["Error"].get("Message"),
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
        }


print(json.dumps({
    "ssm": error_of(lambda: client("ssm").describe_instance_information()),
    "ec2": error_of(lambda: client("ec2").describe_instances()),
}))
