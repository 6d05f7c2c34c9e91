"""Presigns S3 requests with botocore at a fixed time, for comparison with our signer.

Usage: botocore_presign.py EPOCH_SECONDS   (JSON on stdin: [{method, host, path, query, expires, key_id, secret, region}])
Prints one URL query string per request (everything after '?'), one per line.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

fixed = datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc).replace(tzinfo=None)
botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed

for item in json.load(sys.stdin):
    # As botocore's S3 serializer does: the key is percent-encoded into the URL, which the signer takes as-is.
    url = "https://" + item["host"] + percent_encode(item["path"], safe="/~")
    request = AWSRequest(method=item["method"], url=url, params=dict(item.get("query", [])))
    auth = S3SigV4QueryAuth(Credentials(item["key_id"], item["secret"]), "s3", item["region"], expires=item["expires"])
    auth.add_auth(request)
    print(request.url.split("?", 1)[1])
