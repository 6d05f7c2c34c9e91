"""A stand-in S3 endpoint that answers 503 SlowDown to the first N requests, then 200 with body "abc".

Usage: flaky_s3.py PORT N COUNT_FILE. Keeps the number of requests served in COUNT_FILE (written before it listens
too, so the file's existence says it is ready).
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, failures, count_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
count = 0


def record():
    with open(count_file + ".tmp", "w") as f:
        f.write(str(count))
    import os
    os.replace(count_file + ".tmp", count_file)


class Handler(BaseHTTPRequestHandler):
    def _answer(self, with_body):
        global count
        count += 1
        record()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if count <= failures:
            body = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"
            self.send_response(503)
        else:
            body = b"abc"
            self.send_response(200)
            self.send_header("ETag", '"e"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self):
        self._answer(True)

    def do_PUT(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
record()
server.serve_forever()
