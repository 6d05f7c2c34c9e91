"""Prepares a moto_server that checks signatures: an IAM user with an allow-all inline policy and an access key
(moto only verifies SigV4 for keys of IAM users it knows), then the test buckets, signed with that key.

Usage: moto_iam.py ENDPOINT BUCKET... ; prints "ACCESS_KEY_ID SECRET" on stdout.
The first three calls (IAM) run before moto starts enforcing auth (INITIAL_NO_AUTH_ACTION_COUNT=3).
"""
import json
import sys

import boto3
from botocore.config import Config

endpoint, buckets = sys.argv[1], sys.argv[2:]
config = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap", config=config)
iam.create_user(UserName="arrow-test")
iam.put_user_policy(UserName="arrow-test", PolicyName="all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}))
key = iam.create_access_key(UserName="arrow-test")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"], config=config)
for bucket in buckets:
    s3.create_bucket(Bucket=bucket)
print(key["AccessKeyId"], key["SecretAccessKey"])
