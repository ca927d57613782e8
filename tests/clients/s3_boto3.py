"""boto3 against the proxy's S3 API: every operation of the issue, byte-exact.

Usage: s3_boto3.py <endpoint url>. Prints OK and exits 0 when every check passed.
"""
import hashlib
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

s3 = boto3.client(
    "s3",
    endpoint_url=sys.argv[1],
    aws_access_key_id="anyuser",
    aws_secret_access_key="anysecret",
    region_name="us-east-1",
    config=Config(
        s3={"addressing_style": "path"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        retries={"max_attempts": 1},
    ),
)


def code(f):
    try:
        f()
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise SystemExit("expected an error")


s3.create_bucket(Bucket="bkt")
s3.create_bucket(Bucket="bkt")  # Alluxio: an existing bucket is fine
assert "bkt" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
s3.head_bucket(Bucket="bkt")

small = b"hello alluxio"
r = s3.put_object(Bucket="bkt", Key="a/b/small.txt", Body=small, ContentType="text/plain", Tagging="k1=v1&k2=v2")
assert r["ETag"] == '"%s"' % hashlib.md5(small).hexdigest(), r["ETag"]
g = s3.get_object(Bucket="bkt", Key="a/b/small.txt")
assert g["Body"].read() == small and g["ContentType"] == "text/plain" and g["ETag"] == r["ETag"]
h = s3.head_object(Bucket="bkt", Key="a/b/small.txt")
assert h["ContentLength"] == len(small) and h["ETag"] == r["ETag"]
# Overwrite replaces.
s3.put_object(Bucket="bkt", Key="a/b/small.txt", Body=b"v2")
assert s3.get_object(Bucket="bkt", Key="a/b/small.txt")["Body"].read() == b"v2"

big = os.urandom(3 << 20)
s3.put_object(Bucket="bkt", Key="big.bin", Body=big)
for rng, want in [("bytes=0-9", big[:10]), ("bytes=100-", big[100:]), ("bytes=-5", big[-5:]), ("bytes=1048570-1048580", big[1048570:1048581])]:
    got = s3.get_object(Bucket="bkt", Key="big.bin", Range=rng)
    assert got["Body"].read() == want, rng
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206 and got["ContentRange"].startswith("bytes "), got["ContentRange"]
assert code(lambda: s3.get_object(Bucket="bkt", Key="big.bin", Range="bytes=%d-" % (len(big) + 10))) == "InvalidRange"

# Tagging.
tags = s3.get_object_tagging(Bucket="bkt", Key="big.bin")["TagSet"]
assert tags == [], tags
s3.put_object_tagging(Bucket="bkt", Key="big.bin", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
assert s3.get_object_tagging(Bucket="bkt", Key="big.bin")["TagSet"] == [{"Key": "t", "Value": "1"}]
s3.delete_object_tagging(Bucket="bkt", Key="big.bin")
assert s3.get_object_tagging(Bucket="bkt", Key="big.bin")["TagSet"] == []

# Copy.
c = s3.copy_object(Bucket="bkt", Key="copy/of/big.bin", CopySource={"Bucket": "bkt", "Key": "big.bin"})
assert c["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(big).hexdigest()
assert s3.get_object(Bucket="bkt", Key="copy/of/big.bin")["Body"].read() == big

# Listing: v1 and v2, prefix, delimiter, max-keys and continuation, url encoding.
for i in range(7):
    s3.put_object(Bucket="bkt", Key="list/k%d with space" % i, Body=b"x" * i)
s3.put_object(Bucket="bkt", Key="list/sub/deeper", Body=b"y")
v2 = s3.list_objects_v2(Bucket="bkt", Prefix="list/", Delimiter="/")
assert [o["Key"] for o in v2["Contents"]] == ["list/k%d with space" % i for i in range(7)], v2["Contents"]
assert [p["Prefix"] for p in v2["CommonPrefixes"]] == ["list/sub/"]
keys, token = [], None
while True:
    kw = {"Bucket": "bkt", "Prefix": "list/", "MaxKeys": 3}
    if token:
        kw["ContinuationToken"] = token
    page = s3.list_objects_v2(**kw)
    keys += [o["Key"] for o in page.get("Contents", [])]
    assert page["KeyCount"] <= 3
    if not page["IsTruncated"]:
        break
    token = page["NextContinuationToken"]
assert keys == sorted(["list/k%d with space" % i for i in range(7)] + ["list/sub/deeper"]), keys
v1 = s3.list_objects(Bucket="bkt", Prefix="list/", Delimiter="/", MaxKeys=4)
assert v1["IsTruncated"] and len(v1["Contents"]) + len(v1.get("CommonPrefixes", [])) == 4
v1b = s3.list_objects(Bucket="bkt", Prefix="list/", Delimiter="/", Marker=v1["NextMarker"])
assert len(v1b["Contents"]) + len(v1b.get("CommonPrefixes", [])) == 4
all_keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bkt")["Contents"]]
assert "a/b/small.txt" in all_keys and "big.bin" in all_keys and not any(".alluxio" in k for k in all_keys), all_keys

# Multipart: 100 MiB in parts of 8 MiB, list parts, complete; then an aborted one.
part_size = 8 << 20
blob = os.urandom(100 << 20)
up = s3.create_multipart_upload(Bucket="bkt", Key="mp/blob.bin", ContentType="application/x-test")
parts = []
for n, off in enumerate(range(0, len(blob), part_size), start=1):
    r = s3.upload_part(Bucket="bkt", Key="mp/blob.bin", UploadId=up["UploadId"], PartNumber=n, Body=blob[off : off + part_size])
    parts.append({"PartNumber": n, "ETag": r["ETag"]})
listed = s3.list_parts(Bucket="bkt", Key="mp/blob.bin", UploadId=up["UploadId"])["Parts"]
assert [p["PartNumber"] for p in listed] == [p["PartNumber"] for p in parts]
assert code(lambda: s3.complete_multipart_upload(Bucket="bkt", Key="mp/blob.bin", UploadId=up["UploadId"], MultipartUpload={"Parts": parts[:1] + [{"PartNumber": 99, "ETag": parts[0]["ETag"]}]})) == "InvalidPart"
done = s3.complete_multipart_upload(Bucket="bkt", Key="mp/blob.bin", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
assert done["ETag"].endswith('-%d"' % len(parts)), done["ETag"]
g = s3.get_object(Bucket="bkt", Key="mp/blob.bin")
assert g["ContentLength"] == len(blob) and g["ContentType"] == "application/x-test"
assert hashlib.md5(g["Body"].read()).digest() == hashlib.md5(blob).digest()
assert code(lambda: s3.list_parts(Bucket="bkt", Key="mp/blob.bin", UploadId=up["UploadId"])) == "NoSuchUpload"
up2 = s3.create_multipart_upload(Bucket="bkt", Key="mp/aborted")
s3.upload_part(Bucket="bkt", Key="mp/aborted", UploadId=up2["UploadId"], PartNumber=1, Body=b"z" * 100)
s3.abort_multipart_upload(Bucket="bkt", Key="mp/aborted", UploadId=up2["UploadId"])
assert code(lambda: s3.head_object(Bucket="bkt", Key="mp/aborted")) == "404"
small_parts = s3.create_multipart_upload(Bucket="bkt", Key="mp/small")
ps = [s3.upload_part(Bucket="bkt", Key="mp/small", UploadId=small_parts["UploadId"], PartNumber=n, Body=b"s" * 10)["ETag"] for n in (1, 2)]
assert code(lambda: s3.complete_multipart_upload(Bucket="bkt", Key="mp/small", UploadId=small_parts["UploadId"], MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), ps)]})) == "EntityTooSmall"

# Deletes.
s3.delete_object(Bucket="bkt", Key="never-existed")
r = s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "list/k%d with space" % i} for i in range(7)] + [{"Key": "missing"}]})
assert len(r["Deleted"]) == 8 and not r.get("Errors"), r
assert code(lambda: s3.get_object(Bucket="bkt", Key="list/k0 with space")) == "NoSuchKey"

# Errors.
assert code(lambda: s3.get_object(Bucket="nobucket", Key="x")) == "NoSuchBucket"
assert code(lambda: s3.delete_bucket(Bucket="bkt")) == "BucketNotEmpty"
assert code(lambda: s3.create_bucket(Bucket="Bad_Name")) == "InvalidBucketName"
assert code(lambda: s3.put_object(Bucket="bkt", Key="../escape", Body=b"x")) == "InvalidArgument"
assert code(lambda: s3.put_object(Bucket="bkt", Key="a/../../escape", Body=b"x")) == "InvalidArgument"
assert code(lambda: s3.put_object(Bucket="bkt", Key="md5", Body=b"x", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")) == "BadDigest"
assert code(lambda: s3.head_object(Bucket="bkt", Key="md5")) == "404"

s3.create_bucket(Bucket="empty-bucket")
s3.delete_bucket(Bucket="empty-bucket")
assert code(lambda: s3.head_bucket(Bucket="empty-bucket")) == "404"
print("OK")
