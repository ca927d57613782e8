"""Small-object throughput: N PUTs then N GETs of 4 KiB objects through one S3 endpoint.

Usage: s3_small_ops.py <endpoint url> <access key> <secret key> <bucket> [N]
Prints "PUT <ops/s>" and "GET <ops/s>". One client thread, one kept-alive connection.
"""
import os
import sys
import time

import boto3
from botocore.config import Config

endpoint, key, secret, bucket = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id=key,
    aws_secret_access_key=secret,
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                  response_checksum_validation="when_required"),
)
try:
    s3.create_bucket(Bucket=bucket)
except Exception:
    pass
body = os.urandom(4096)
t0 = time.perf_counter()
for i in range(n):
    s3.put_object(Bucket=bucket, Key="small/%06d" % i, Body=body)
t1 = time.perf_counter()
for i in range(n):
    assert s3.get_object(Bucket=bucket, Key="small/%06d" % i)["Body"].read() == body
t2 = time.perf_counter()
print("PUT %.0f" % (n / (t1 - t0)))
print("GET %.0f" % (n / (t2 - t1)))
