"""A real `kanri serve` for the contract checks (.ci/schemathesis, tests/contract/client.py):
a fresh database (SQLite in a temporary directory, or a new PostgreSQL database when
KANRI_TEST_DATABASE_URL is set), a tenant with its keys, and a signed-up user.
"""
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS_TOKEN = "contract-metrics-token"
# Signs the identity provider's (Svix) webhooks: `whsec_` + base64 of the key.
IDENTITY_WEBHOOK_SECRET = "whsec_" + "c2NoZW1hdGhlc2lzLXdlYmhvb2stc2VjcmV0"


@dataclass
class Server:
    base: str
    work: str
    secret_key: str
    publishable_key: str
    email: str
    password: str
    metrics_token: str


def default_binary():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "debug", "kanri")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")


def database_url(work):
    server = os.environ.get("KANRI_TEST_DATABASE_URL")
    if not server:
        return f"sqlite://{work}/kanri.db?mode=rwc"
    name = "kanri_test_" + uuid.uuid4().hex
    subprocess.run(["psql", server, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    return server.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def running(binary, name):
    """Starts `kanri serve` on a free port and yields a Server once /healthz answers."""
    work = tempfile.mkdtemp(prefix=f"kanri-{name}-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        KANRI_BIND=f"127.0.0.1:{port}",
        KANRI_DATABASE_URL=database_url(work),
        KANRI_STORAGE_URL=f"file://{work}/files",
        KANRI_MAIL_URL=f"file://{work}/mail",
        KANRI_LOG="warn",
        KANRI_RATE_LIMIT_PER_MINUTE="1000000",
        KANRI_AUTH_RATE_LIMIT_PER_MINUTE="1000000",
        KANRI_METRICS_TOKEN=METRICS_TOKEN,
        # The signed-webhook routes answer 503 until they have a secret.
        KANRI_IDENTITY_WEBHOOK_SECRET=IDENTITY_WEBHOOK_SECRET,
        KANRI_STRIPE_WEBHOOK_SECRET="whsec_contract",
    )
    env.pop("KANRI_REDIS_URL", None)
    created = json.loads(
        subprocess.run(
            [binary, "tenant", "create", name, "--json"],
            env=env, check=True, capture_output=True, text=True,
        ).stdout
    )
    log_path = os.path.join(work, "server.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit(f"kanri serve exited with {server.returncode}; log: {log_path}")
                time.sleep(0.1)
        else:
            sys.exit("kanri serve did not come up")
        email, password = f"{name}@example.com", "correct horse battery 9"
        call(
            base, "POST", "/v1/auth/register",
            {"email": email, "password": password, "name": name.title()},
            {"X-Api-Key": created["publishable_key"]},
        )
        yield Server(
            base, work, created["secret_key"], created["publishable_key"], email, password,
            METRICS_TOKEN,
        )
    except Exception:
        print(f"server log: {log_path}", file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
