"""Shared helpers of the end-to-end tests of the `sluice` CLI (tests/cli/test_*.py).

Each test script is run as

    python3 tests/cli/test_X.py SLUICE_BINARY SLUICE_DEMO_BINARY

(ctest passes the built targets; see tests/CMakeLists.txt). It runs its cases, prints one
line per case (`ok`, `FAIL` or `SKIP`) and a final line exactly `N passed, M failed`, and
exits non-zero when anything failed. Scratch files go to a fresh directory under the
working directory, removed at the end unless something failed (then its path is printed).

Environment:
    SLUICE_CSV_SPECTRUM_DIR  csv-spectrum's csvs/ and json/ (ctest sets it to the npm
                             package the build installs; see tests/data/npm)
    SLUICE_CLI_KEEP          1: keep the scratch directory even when everything passed
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Failure(AssertionError):
    pass


class Suite:
    """Runs named cases, counting passes and failures."""

    def __init__(self, name):
        self.name = name
        if len(sys.argv) < 3:
            print(f"usage: {sys.argv[0]} SLUICE SLUICE_DEMO", file=sys.stderr)
            sys.exit(2)
        self.sluice = os.path.abspath(sys.argv[1])
        self.demo = os.path.abspath(sys.argv[2])
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.scratch = tempfile.mkdtemp(prefix=f"sluice-cli-{name}-", dir=os.getcwd())
        self._case_dir = None
        self.only = set(os.environ.get("SLUICE_CLI_ONLY", "").split(",")) - {""}

    # --- cases ---------------------------------------------------------------------------
    def case(self, name):
        """Decorator: runs the function now as a case in its own scratch subdirectory."""

        def wrap(fn):
            if self.only and name not in self.only:
                return fn
            d = os.path.join(self.scratch, name.replace("/", "_"))
            os.makedirs(d, exist_ok=True)
            self._case_dir = d
            t0 = time.monotonic()
            try:
                fn(d)
            except Skip as s:
                self.skipped += 1
                print(f"SKIP {name}: {s}", flush=True)
            except Exception as e:  # noqa: BLE001 - any exception fails the case
                self.failed += 1
                msg = str(e) if isinstance(e, Failure) else traceback.format_exc()
                print(f"FAIL {name}: {msg}", flush=True)
            else:
                self.passed += 1
                print(f"ok   {name} ({time.monotonic() - t0:.1f} s)", flush=True)
            return fn

        return wrap

    def finish(self):
        keep = os.environ.get("SLUICE_CLI_KEEP") == "1"
        if self.failed or keep:
            print(f"scratch kept in {self.scratch}")
        else:
            shutil.rmtree(self.scratch, ignore_errors=True)
        if self.skipped:
            print(f"{self.skipped} skipped")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)

    # --- running the tool ----------------------------------------------------------------
    def run(self, *args, input=None, env=None, timeout=300, cwd=None, stdout=None):
        """Runs `sluice ARGS`; returns a CompletedProcess with bytes stdout/stderr."""
        full_env = dict(os.environ)
        if env:
            for k, v in env.items():
                if v is None:
                    full_env.pop(k, None)
                else:
                    full_env[k] = v
        return subprocess.run(
            [self.sluice, *map(str, args)],
            input=input,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            timeout=timeout,
            cwd=cwd,
        )

    def ok(self, *args, **kw):
        """Runs `sluice ARGS` and fails the case unless it exits 0."""
        r = self.run(*args, **kw)
        if r.returncode != 0:
            raise Failure(f"sluice {' '.join(map(str, args))} exited {r.returncode}: {err(r)}")
        return r

    def generate(self, path, rows):
        """Writes a realistic CSV of `rows` rows with sluice_demo."""
        subprocess.run([self.demo, str(path), str(rows)], check=True, stdout=subprocess.DEVNULL)
        return path


class Skip(Exception):
    pass


def s3_client(**config):
    """A boto3 client of the test S3 endpoint (SLUICE_TEST_S3_ENDPOINT, AWS_* from the
    environment, path-style addressing, checksums only where S3 requires them; `config` adds
    or overrides botocore Config settings). Raises Skip without the endpoint or boto3."""
    endpoint = os.environ.get("SLUICE_TEST_S3_ENDPOINT", "")
    if not endpoint:
        raise Skip("SLUICE_TEST_S3_ENDPOINT is not set")
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise Skip("boto3 is not installed")
    settings = dict(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                    response_checksum_validation="when_required")
    settings.update(config)
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY"), config=Config(**settings))


def err(r):
    return r.stderr.decode("utf-8", "replace").strip()


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def eq(got, want, what="value"):
    if got != want:
        g, w = repr(got), repr(want)
        if len(g) > 600:
            g = g[:600] + "..."
        if len(w) > 600:
            w = w[:600] + "..."
        raise Failure(f"{what}: got {g}, want {w}")


def expect_exit(r, code, what=""):
    if r.returncode != code:
        raise Failure(f"{what}: exit {r.returncode}, want {code}; stderr: {err(r)[:800]}")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def listdir(d):
    return sorted(os.listdir(d))


def jsonl_records(data):
    """Parses JSONL bytes into a list of objects keeping key order and number text."""
    out = []
    for line in data.decode("utf-8").split("\n"):
        if line.strip():
            out.append(json.loads(line, object_pairs_hook=lambda kv: [list(p) for p in kv],
                                  parse_float=str, parse_int=str))
    return out


def csv_spectrum_dir():
    """csv-spectrum's root (csvs/, json/): $SLUICE_CSV_SPECTRUM_DIR, which ctest sets. Missing
    data is a failure, never a skip: a checkout carries (or installs) its own test data."""
    d = os.environ.get("SLUICE_CSV_SPECTRUM_DIR")
    if not d:
        raise Failure("SLUICE_CSV_SPECTRUM_DIR is not set (ctest sets it to the npm package "
                      "installed under <build>/npm/conformance)")
    if not os.path.isdir(os.path.join(d, "csvs")) or not os.path.isdir(os.path.join(d, "json")):
        raise Failure(f"csv-spectrum is not installed at {d} (scripts/test installs it; "
                      "or `ctest -R conformance_data`)")
    return d
