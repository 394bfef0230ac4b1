"""Drives the sandbox with boto3 and checks every field it returns against botocore's service models.

Prints one JSON object; the C# test (Boto3Tests) asserts on it. Inputs come from the environment.
"""
import json
import os
import time
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

E = os.environ
problems = []
raw_bodies = []


def check_json(value, shape, path):
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not in the model")
            else:
                check_json(item, shape.members[key], f"{path}.{key}")
    elif t == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return
        for i, item in enumerate(value):
            check_json(item, shape.member, f"{path}[{i}]")
    elif t == "map":
        for key, item in value.items():
            check_json(item, shape.value, f"{path}.{key}")
    elif t == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string")
        elif shape.enum and value and value not in shape.enum:
            problems.append(f"{path}: '{value}' is not one of the model's values")
    elif t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}: expected an integer")
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean")
    elif t == "timestamp":
        if not isinstance(value, (int, float)):
            problems.append(f"{path}: expected epoch seconds")


def local(tag):
    return tag.split("}")[-1]


def check_xml(elem, shape, path):
    t = shape.type_name
    if t == "structure":
        names = {(m.serialization.get("name") or n): m for n, m in shape.members.items()}
        for child in elem:
            tag = local(child.tag)
            if tag not in names:
                problems.append(f"{path}.{tag}: not in the model")
            else:
                check_xml(child, names[tag], f"{path}.{tag}")
    elif t == "list":
        item_name = shape.member.serialization.get("name") or "member"
        for i, child in enumerate(elem):
            if local(child.tag) != item_name:
                problems.append(f"{path}[{i}]: element {local(child.tag)} instead of {item_name}")
            check_xml(child, shape.member, f"{path}[{i}]")
    else:
        if len(elem):
            problems.append(f"{path}: expected a value, found elements")
        text = elem.text or ""
        if t == "string" and shape.enum and text and text not in shape.enum and text.lower() not in [e.lower() for e in shape.enum]:
            problems.append(f"{path}: '{text}' is not one of the model's values")
        if t in ("integer", "long") and not text.lstrip("-").isdigit():
            problems.append(f"{path}: '{text}' is not an integer")


def after_call(http_response, model, **kwargs):
    if http_response.status_code >= 300 or model.output_shape is None:
        return
    body = http_response.content
    raw_bodies.append(body.decode("utf-8"))
    protocol = model.metadata["protocol"]
    if protocol == "json":
        check_json(json.loads(body or b"{}"), model.output_shape, model.name)
    else:
        root = ET.fromstring(body)
        if protocol == "query":
            wrapper = model.output_shape.serialization.get("resultWrapper")
            root = next(c for c in root if local(c.tag) == wrapper)
        else:
            root = [c for c in root if local(c.tag) != "requestId"]
            holder = ET.Element("x")
            holder.extend(root)
            root = holder
        check_xml(root, model.output_shape, model.name)


def client(service, key=None, secret=None, token=None, region=None, validate=True):
    c = boto3.client(
        service,
        endpoint_url=E["SANDBOX_AWS_ENDPOINT"],
        region_name=region or E["SANDBOX_AWS_REGION"],
        aws_access_key_id=key or E["SANDBOX_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret or E["SANDBOX_AWS_SECRET_ACCESS_KEY"],
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
    )
    c.meta.events.register("after-call", after_call)
    return c


def code_of(call):
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


out = {}
sts = client("sts")
out["account"] = sts.get_caller_identity()["Account"]
assumed = sts.assume_role(RoleArn=f"arn:aws:iam::{E['ACCOUNT2']}:role/AnyRole", RoleSessionName="boto3")["Credentials"]
out["assumedAccount"] = client("sts", assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]).get_caller_identity()["Account"]
out["assumeUnknown"] = code_of(lambda: sts.assume_role(RoleArn="arn:aws:iam::999999999999:role/x", RoleSessionName="boto3"))

ec2 = client("ec2")
instances = []
pages = 0
for page in ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}):
    pages += 1
    for reservation in page["Reservations"]:
        instances.extend(reservation["Instances"])
out["ec2Pages"] = pages
out["ec2Ids"] = [i["InstanceId"] for i in instances]
out["ec2Platforms"] = {i["InstanceId"]: i.get("Platform") for i in instances}
out["ec2States"] = {i["InstanceId"]: i["State"]["Name"] for i in instances}
out["regions"] = [r["RegionName"] for r in ec2.describe_regions()["Regions"]]
out["ec2BadFilter"] = code_of(lambda: ec2.describe_instances(Filters=[{"Name": "no-such-filter", "Values": ["x"]}]))

ssm = client("ssm")
nodes = []
for page in ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 5}):
    nodes.extend(page["InstanceInformationList"])
out["ssmNodes"] = {n["InstanceId"]: n["PingStatus"] for n in nodes}
out["diiTooSmall"] = code_of(lambda: client("ssm", validate=False).describe_instance_information(MaxResults=4))
out["wrongSecret"] = code_of(lambda: client("ssm", secret="x" * 40).describe_instance_information())
out["ec2WrongSecret"] = code_of(lambda: client("ec2", secret="x" * 40).describe_instances())

command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[E["LINUX"]], Parameters={"commands": ["echo $AWS_SSM_INSTANCE_ID $AWS_SSM_REGION_NAME", "exit 3"]})["Command"]
out["immediate"] = code_of(lambda: ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=E["LINUX"]))
deadline = time.time() + 30
while True:
    try:
        inv = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=E["LINUX"])
        if inv["Status"] not in ("Pending", "InProgress", "Delayed"):
            break
    except ClientError:
        pass
    if time.time() > deadline:
        raise SystemExit("timed out")
    time.sleep(0.1)
out["invocation"] = {"Status": inv["Status"], "ResponseCode": inv["ResponseCode"], "Stdout": inv["StandardOutputContent"]}
listed = ssm.list_command_invocations(CommandId=command["CommandId"], Details=True)["CommandInvocations"]
out["listedStatus"] = listed[0]["Status"]
out["listedPluginCode"] = listed[0]["CommandPlugins"][0]["ResponseCode"]
out["invalidInstance"] = code_of(lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[E["STOPPED"]], Parameters={"commands": ["true"]}))
out["cancel"] = ssm.cancel_command(CommandId=command["CommandId"])["ResponseMetadata"]["HTTPStatusCode"]
out["windowsOnWire"] = any("<platform>windows</platform>" in b for b in raw_bodies)
out["problems"] = problems
print(json.dumps(out))
