#!/usr/bin/env python3
"""End-to-end tests of the `sluice` CLI with s3:// inputs and outputs, against the S3 test
stack (s3rver behind tests/s3/proxy/proxy.js, which verifies signatures, records upload
lifecycles and injects faults; scripts/lib/s3.sh's s3_start exports the settings).

Needs SLUICE_TEST_S3_ENDPOINT and AWS_* (SKIPs everything when unset); the export case also
SLUICE_TEST_PG_DSN. Objects are read back with boto3, an independent client.

    python3 tests/cli/test_s3.py SLUICE SLUICE_DEMO
"""

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from cli_common import (Failure, Skip, Suite, check, eq, err, expect_exit, listdir, read, s3_client,
                        write)

s = Suite("s3")
ENDPOINT = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
BUCKET = os.environ.get("SLUICE_TEST_S3_BUCKET", "sluice-test")
SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")
PREFIX = f"cli-{os.getpid()}-{int(time.time())}/"
MiB = 1024 * 1024

if not ENDPOINT:
    print("SKIP s3: SLUICE_TEST_S3_ENDPOINT is not set (source scripts/lib/s3.sh; s3_start)")
    s.skipped += 1
    s.finish()
try:
    import boto3  # noqa: F401 (s3_client's; here to SKIP the whole file without it)
    from botocore.exceptions import ClientError
except ImportError:
    print("SKIP s3: boto3 is not installed")
    s.skipped += 1
    s.finish()

boto = s3_client(retries={"max_attempts": 2})

# Every stderr (and stdout, but presign's URL) of every run, checked for the secret at the end.
outputs = []


def run(*args, **kw):
    r = s.run(*args, **kw)
    outputs.append((" ".join(map(str, args[:3])), r.stderr))
    if args and args[0] != "presign":
        outputs.append((" ".join(map(str, args[:3])), r.stdout if r.stdout else b""))
    return r


def ok(*args, **kw):
    r = run(*args, **kw)
    if r.returncode != 0:
        raise Failure(f"sluice {' '.join(map(str, args))} exited {r.returncode}: {err(r)}")
    return r


def url(key):
    return f"s3://{BUCKET}/{PREFIX}{key}"


def get(key):
    return boto.get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read()


def exists(key):
    try:
        boto.head_object(Bucket=BUCKET, Key=PREFIX + key)
        return True
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def admin(path, body=None):
    req = urllib.request.Request(ENDPOINT + "/__admin/" + path,
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def uploads(key):
    """The proxy's record of the multipart uploads of one key."""
    res = admin("uploads?key_prefix=" + urllib.parse.quote(PREFIX + key))
    return [u for u in res["uploads"] if u["key"] == PREFIX + key]


def no_open_upload(key):
    open_ = [u for u in uploads(key) if u["state"] not in ("completed", "aborted")]
    check(not open_, f"open multipart uploads left for {key}: {open_}")


# --- cases -----------------------------------------------------------------------------------
@s.case("roundtrip_local_s3_local")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 20000)
    ref = os.path.join(d, "ref.jsonl")
    ok("convert", src, ref)
    # CSV -> s3 .jsonl.gz, read back with boto3.
    ok("convert", src, url("data.jsonl.gz"))
    obj = get("data.jsonl.gz")
    check(obj[:2] == b"\x1f\x8b", "the object is not gzip")
    eq(gzip.decompress(obj), read(ref), "s3 .jsonl.gz content (boto3)")
    # And back: s3 -> local, decompressed by magic bytes.
    back = os.path.join(d, "back.csv")
    ok("convert", url("data.jsonl.gz"), back)
    eq(read(back), read(src), "s3 .jsonl.gz -> local CSV")
    # zstd the same way, and a name that hides the compression.
    ok("convert", src, url("data.csv.zst"))
    z = subprocess.run(["zstd", "-q", "-d", "-c"], input=get("data.csv.zst"), capture_output=True)
    eq(z.stdout, read(src), "s3 .csv.zst content")
    ok("convert", "--compress", "gzip", src, url("opaque.bin"), "--to", "jsonl")
    check(get("opaque.bin")[:2] == b"\x1f\x8b", "--compress gzip to s3: not gzip")
    out = os.path.join(d, "opaque.csv")
    ok("convert", "--from", "jsonl", url("opaque.bin"), out)
    eq(read(out), read(src), "magic-byte decompression of an s3 object without extension")
    # s3 -> s3, and s3 -> stdout.
    ok("convert", url("data.jsonl.gz"), url("copy.tsv"))
    local_tsv = os.path.join(d, "ref.tsv")
    ok("convert", src, local_tsv)
    eq(get("copy.tsv"), read(local_tsv), "s3 -> s3 TSV")
    r = ok("convert", url("data.csv.zst"), "-", "--to", "jsonl")
    eq(r.stdout, read(ref), "s3 -> stdout")
    # An object uploaded by another client (boto3) reads the same.
    boto.put_object(Bucket=BUCKET, Key=PREFIX + "foreign.csv.gz", Body=gzip.compress(read(src)))
    out = os.path.join(d, "foreign.jsonl")
    ok("convert", url("foreign.csv.gz"), out)
    eq(read(out), read(ref), "boto3-uploaded .csv.gz -> JSONL")


@s.case("multipart_part_size")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 150000)  # ~12 MB
    size = os.path.getsize(src)
    check(10 * MiB < size <= 15 * MiB, f"input is {size} bytes, want 10-15 MiB")
    ok("convert", src, url("parts.csv"), "--part-size", "5MiB")
    eq(get("parts.csv"), read(src), "multipart object content")
    ups = uploads("parts.csv")
    eq(len(ups), 1, f"multipart uploads for the key: {ups}")
    parts = ups[0]["parts"]
    eq(ups[0]["state"], "completed", "upload state")
    eq([p["number"] for p in parts], [1, 2, 3], "part numbers")
    eq([p["size"] for p in parts[:2]], [5 * MiB, 5 * MiB], "sizes of all parts but the last")
    eq(sum(p["size"] for p in parts), size, "total of the part sizes")
    # The same with --part-size in plain bytes.
    ok("convert", src, url("parts2.csv"), "--part-size", str(5 * MiB), "--s3-concurrency", "1")
    eq([p["size"] for p in uploads("parts2.csv")[0]["parts"]][:2], [5 * MiB, 5 * MiB],
       "--part-size in bytes")
    # Smaller than one part: a single PutObject, no multipart upload.
    small = write(os.path.join(d, "small.csv"), "a,b\n1,2\n")
    ok("convert", small, url("small.csv"), "--part-size", "5MiB")
    eq(get("small.csv"), b"a,b\n1,2\n", "small object")
    eq(uploads("small.csv"), [], "multipart uploads for a small object")
    # A part size under the S3 minimum is refused up front (exit 2), nothing uploaded.
    r = run("convert", src, url("tiny-parts.csv"), "--part-size", "1MiB")
    expect_exit(r, 2, "--part-size 1MiB")
    check(not exists("tiny-parts.csv") and not uploads("tiny-parts.csv"), "object or upload left")


@s.case("empty_output")
def _(d):
    hdr = write(os.path.join(d, "header_only.csv"), "a,b\n")
    ok("convert", hdr, url("empty.jsonl.gz"))
    obj = get("empty.jsonl.gz")
    check(len(obj) > 0, "an empty gzip output is zero bytes, not a gzip stream")
    eq(gzip.decompress(obj), b"", "empty .gz content")
    ok("convert", hdr, url("empty.jsonl.zst"))
    obj = get("empty.jsonl.zst")
    check(len(obj) > 0, "an empty zstd output is zero bytes, not a zstd stream")
    z = subprocess.run(["zstd", "-q", "-d", "-c"], input=obj, capture_output=True)
    check(z.returncode == 0 and z.stdout == b"", f"empty .zst: zstd -d {z.returncode} {z.stdout!r}")
    ok("convert", hdr, url("empty.jsonl"))
    eq(get("empty.jsonl"), b"", "empty plain object")
    for k in ("empty.jsonl.gz", "empty.jsonl.zst", "empty.jsonl"):
        eq(uploads(k), [], f"multipart uploads for {k}")


@s.case("presign")
def _(d):
    body = "x,y\n1,\"é\"\n".encode()
    boto.put_object(Bucket=BUCKET, Key=PREFIX + "dir/pre signed+é.csv", Body=body)
    r = ok("presign", url("dir/pre signed+é.csv"))
    u = r.stdout.decode().strip()
    check(u.startswith(ENDPOINT), f"URL not on the endpoint: {u}")
    with urllib.request.urlopen(u, timeout=10) as resp:
        eq(resp.read(), body, "object fetched through the presigned URL")

    def refused(bad, what):
        try:
            with urllib.request.urlopen(bad, timeout=10) as resp:
                raise Failure(f"{what}: accepted (HTTP {resp.status})")
        except urllib.error.HTTPError as e:
            check(e.code == 403, f"{what}: HTTP {e.code}, want 403")

    sig = re.search(r"X-Amz-Signature=([0-9a-f]+)", u)
    check(sig, f"no signature in {u}")
    flipped = sig.group(1)[:-1] + ("0" if sig.group(1)[-1] != "0" else "1")
    refused(u.replace(sig.group(1), flipped), "tampered signature")
    refused(u.replace("pre%20signed", "pre%20signee"), "tampered key")
    refused(re.sub(r"X-Amz-Expires=\d+", "X-Amz-Expires=604800", u), "tampered expiry")
    # --expires: 7 days is the maximum.
    ok("presign", url("x.csv"), "--expires", "604800")
    r = run("presign", url("x.csv"), "--expires", "604801")
    expect_exit(r, 2, "--expires past 7 days")
    r = run("presign", url("x.csv"), "--expires", "0")
    expect_exit(r, 2, "--expires 0")
    r = run("presign", "https://not-s3/x")
    expect_exit(r, 2, "presign of a non-s3 URL")
    # An expired URL is refused.
    r = ok("presign", url("dir/pre signed+é.csv"), "--expires", "1")
    time.sleep(2.2)
    refused(r.stdout.decode().strip(), "expired URL")


@s.case("sigint_during_upload")
def _(d):
    src = s.generate(os.path.join(d, "in.csv"), 1_500_000)  # ~120 MB
    key = "interrupted.jsonl"
    # Hold the part uploads so the upload is surely open when the signal comes.
    admin("faults", {"stall_ms": 1500, "count": 3, "match": "UploadPart", "key_prefix": PREFIX + key})
    p = subprocess.Popen([s.sluice, "convert", src, url(key), "--part-size", "5MiB"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(100):
        time.sleep(0.1)
        if uploads(key) or p.poll() is not None:
            break
    time.sleep(0.3)
    running = p.poll() is None
    p.send_signal(signal.SIGINT)
    _, stderr = p.communicate(timeout=60)
    outputs.append(("sigint", stderr))
    check(running, "the upload finished before SIGINT")
    eq(p.returncode, 130, f"exit after SIGINT (stderr {stderr[:300]!r})")
    check(not exists(key), "an object exists after SIGINT")
    ups = uploads(key)
    check(ups, "no multipart upload was started (nothing tested)")
    no_open_upload(key)
    eq([u["state"] for u in ups], ["aborted"] * len(ups), "upload states")


@s.case("failures_leave_nothing")
def _(d):
    # Bad input after several parts: exit 2, no object, the upload aborted.
    src = s.generate(os.path.join(d, "in.csv"), 150000)
    bad_line = read(src).count(b"\n") + 1  # physical lines: some records span several
    with open(src, "ab") as f:
        f.write(b'1,2,3,4,5,6,7,8,9\n')
    key = "bad-input.csv.gz"
    r = run("convert", src, url(key), "--part-size", "5MiB", "--compress", "none")
    expect_exit(r, 2, "bad input to s3")
    check(re.search(rf"\bline {bad_line}\b", err(r)), f"message does not name line {bad_line}: {err(r)!r}")
    check(not exists(key), "object left after bad input")
    no_open_upload(key)
    check(uploads(key), "no multipart upload was started (nothing tested)")
    # Persistent 500s on the parts: retried, then exit 1, aborted, no object.
    key = "server-errors.csv"
    admin("faults", {"status": 500, "count": 50, "match": "UploadPart", "key_prefix": PREFIX + key})
    good = s.generate(os.path.join(d, "good.csv"), 150000)
    r = run("convert", good, url(key), "--part-size", "5MiB", "--retries", "2")
    expect_exit(r, 1, "persistent HTTP 500")
    check(not exists(key), "object left after HTTP 500s")
    no_open_upload(key)
    # Transient 503s: retried and succeeds.
    key = "transient.csv"
    admin("faults", {"status": 503, "count": 2, "match": "UploadPart", "key_prefix": PREFIX + key})
    ok("convert", good, url(key), "--part-size", "5MiB")
    eq(get(key), read(good), "content after transient 503s")
    # A dropped GET is resumed.
    admin("faults", {"drop_mid_get": 1, "after_bytes": 1000000, "key_prefix": PREFIX + key})
    out = os.path.join(d, "resumed.csv")
    ok("convert", url(key), out)
    eq(read(out), read(good), "content after a dropped GET")
    # Missing object / bucket: exit 1, nothing written.
    out = os.path.join(d, "none.jsonl")
    r = run("convert", url("no-such-object.csv"), out)
    expect_exit(r, 1, "missing object")
    check(not os.path.exists(out), "output created for a missing object")
    r = run("convert", f"s3://no-such-bucket-{os.getpid()}/x.csv", out)
    expect_exit(r, 1, "missing bucket")
    r = run("convert", good, f"s3://no-such-bucket-{os.getpid()}/x.csv")
    expect_exit(r, 1, "upload to a missing bucket")


@s.case("retries_honoured")
def _(d):
    # Issue 16: the breaker (threshold 5) refused the sixth attempt, so six 503s failed
    # `--retries 10`. The breaker counts failed calls, not attempts, now.
    src = s.generate(os.path.join(d, "small.csv"), 100)
    key = "six-503s.csv"
    admin("faults", {"status": 503, "count": 6, "match": "PutObject", "key_prefix": PREFIX + key})
    ok("convert", src, url(key), "--retries", "10", "--retry-delay", "5")
    eq(get(key), read(src), "content after six 503s")
    # The backoff window grows with the attempts: 3 attempts at a 200 ms base wait at least
    # 100 + 200 ms; 10 ms would be plenty if it did not.
    key = "three-503s.csv"
    admin("faults", {"status": 503, "count": 2, "match": "PutObject", "key_prefix": PREFIX + key})
    t0 = time.monotonic()
    ok("convert", src, url(key), "--retries", "3", "--retry-delay", "200")
    check(time.monotonic() - t0 >= 0.3, f"the backoff waited {time.monotonic() - t0:.3f} s")


@s.case("wrong_secret_not_printed")
def _(d):
    wrong = f"WrongSecret{os.getpid()}xyz"
    src = write(os.path.join(d, "in.csv"), "a\n1\n")
    for args in (("convert", src, url("denied.csv")), ("convert", url("data.jsonl.gz"), os.path.join(d, "o.csv"))):
        r = run(*args, env={"AWS_SECRET_ACCESS_KEY": wrong})
        expect_exit(r, 1, f"{args[1]} -> {args[2]} with a wrong secret")
        text = (r.stdout + r.stderr).decode("utf-8", "replace")
        check("SignatureDoesNotMatch" in text or "403" in text, f"no S3 error code in {text!r}")
        check(wrong not in text, f"the secret is printed: {text!r}")
        check(not re.search(r"Signature=[0-9a-f]{64}|[0-9a-f]{64}", text),
              f"a signature is printed: {text!r}")
    # Session tokens are secret too.
    token = f"SessionTokenSecret{os.getpid()}"
    r = run("convert", src, url("token.csv"), env={"AWS_SESSION_TOKEN": token})
    check(token.encode() not in r.stdout + r.stderr, f"the session token is printed: {err(r)!r}")


@s.case("export_to_s3")
def _(d):
    dsn = os.environ.get("SLUICE_TEST_PG_DSN")
    if not dsn:
        raise Skip("SLUICE_TEST_PG_DSN is not set")
    ok("export", "--dsn", dsn, "--query",
       "select g as id, md5(g::text) as h, g * 0.5 as half from generate_series(1, 200000) g",
       "--to", url("export.csv.gz"), "--part-size", "5MiB")
    data = gzip.decompress(get("export.csv.gz"))
    lines = data.decode().splitlines()
    eq(lines[0], "id,h,half", "header")
    eq(len(lines), 200001, "line count")
    eq(lines[2].split(",")[2], "1.0", "numeric text")
    ok("export", "--dsn", dsn, "--query", "select 1 as a, 'x' as b", "--to", url("export.jsonl.zst"))
    z = subprocess.run(["zstd", "-q", "-d", "-c"], input=get("export.jsonl.zst"), capture_output=True)
    eq(z.stdout, b'{"a":1,"b":"x"}\n', "export .jsonl.zst to s3")
    # A query error: exit 1 (the database is the outside world), no object.
    r = run("export", "--dsn", dsn, "--query", "select 1/0", "--to", url("export-fail.csv"))
    expect_exit(r, 1, "failing query")
    check("[SQLSTATE 22012]" in err(r), f"no SQLSTATE in {err(r)!r}")
    check(not exists("export-fail.csv"), "object left after a failing export")
    # An error after several parts went up: exit 1, the upload aborted, no object.
    key = "export-mid-fail.csv"
    r = run("export", "--dsn", dsn, "--query",
            "select g, md5(g::text) as h, 1/(150000 - g) as x from generate_series(1, 200000) g",
            "--to", url(key), "--part-size", "5MiB")
    expect_exit(r, 1, "division by zero after 150k rows")
    check("[SQLSTATE 22012]" in err(r), f"no SQLSTATE in {err(r)!r}")
    check(not exists(key), "object left after a failing export")
    check(uploads(key), "no multipart upload was started (nothing tested)")
    no_open_upload(key)


@s.case("misnamed_compressed_object")
def _(d):
    plain = b"id,text\n1,a\n2,b\n"
    want = b'{"id":"1","text":"a"}\n{"id":"2","text":"b"}\n'
    zstd = subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True, check=True).stdout
    out = os.path.join(d, "out.jsonl")
    # The key says gzip/zstd, the content disagrees: exit 2 naming both, no output.
    for key, body, says, found in (("plain.csv.gz", plain, "gzip", "neither gzip nor zstd"),
                                   ("zstd.csv.gz", zstd, "gzip", "the content is zstd"),
                                   ("gzip.jsonl.zst", gzip.compress(plain), "zstd", "the content is gzip")):
        boto.put_object(Bucket=BUCKET, Key=PREFIX + key, Body=body)
        r = run("convert", url(key), out)
        expect_exit(r, 2, f"{key} holding {found}")
        check(f"{url(key)}: not {says} data" in err(r), f"message: {err(r)!r}")
        check(found in err(r), f"message does not say what the content is: {err(r)!r}")
        check(not os.path.exists(out), "output created")
    # The key says nothing: the magic bytes decide.
    for key, body in (("gzip.csv", gzip.compress(plain)), ("zstd.csv", zstd), ("plain.csv", plain)):
        boto.put_object(Bucket=BUCKET, Key=PREFIX + key, Body=body)
        ok("convert", url(key), out)
        eq(read(out), want, f"{key}: magic bytes decide")


@s.case("no_secret_in_any_output")
def _(d):
    check(outputs, "nothing was run")
    if SECRET and SECRET != KEY_ID:
        leaks = [what for what, text in outputs if SECRET.encode() in text]
        check(not leaks, f"AWS_SECRET_ACCESS_KEY printed by: {leaks}")
    else:
        raise Skip("AWS_SECRET_ACCESS_KEY equals the key id (s3rver's default): "
                   "the wrong-secret case covers this")


# Clean up the objects of this run.
try:
    listed = boto.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX).get("Contents", [])
    for o in listed:
        boto.delete_object(Bucket=BUCKET, Key=o["Key"])
except Exception as e:  # noqa: BLE001
    print(f"cleanup: {e}", file=sys.stderr)
s.finish()
