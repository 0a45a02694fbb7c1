"""Schemathesis hooks for .ci/schemathesis: credentials that survive the run.

The run calls every operation, the sign-outs among them, which end the session they are given;
so each sign-out gets a session of its own, signed in for it, and every other request shares
one session (refetched every ten seconds); `/metrics` gets its bearer token. Every request carries the tenant's secret key as
well, so the secret-key operations are exercised with their own credential. The credentials
replace whatever the generator put in those headers: the session and key are the one part of a
request that must be real for the operation to be reached.
"""
import os
import uuid

import requests
import schemathesis

BASE = os.environ["KANRI_ST_BASE"]
EMAIL = os.environ["KANRI_ST_EMAIL"]
PASSWORD = os.environ["KANRI_ST_PASSWORD"]
SECRET = os.environ["KANRI_ST_SECRET_KEY"]
PUBLISHABLE = os.environ["KANRI_ST_PUBLISHABLE_KEY"]
METRICS_TOKEN = os.environ["KANRI_ST_METRICS_TOKEN"]


ACCOUNT = {"email": EMAIL, "password": PASSWORD}


def sign_in():
    """A session for the run's user. The run may delete that user (`DELETE /v1/admin/users/{id}`
    with an id it learned from `/v1/auth/me`) or lock it out with wrong passwords; then a new
    user is registered and used from there on."""
    res = requests.post(
        BASE + "/v1/auth/login", json=ACCOUNT, headers={"X-Api-Key": PUBLISHABLE}, timeout=30,
    )
    if res.status_code in (401, 429):
        ACCOUNT["email"] = f"schemathesis-{uuid.uuid4().hex[:12]}@example.com"
        res = requests.post(
            BASE + "/v1/auth/register",
            json={**ACCOUNT, "name": "Schemathesis"},
            headers={"X-Api-Key": PUBLISHABLE},
            timeout=30,
        )
    res.raise_for_status()
    return res.json()["data"]["token"]


def ends_the_session(case):
    return case.operation.path.endswith("/logout")


# Refreshed often: a run that deletes its user leaves every request a 401 until the next fetch.
@schemathesis.auth(refresh_interval=10)
class KanriAuth:
    def get(self, case, context):
        return sign_in()

    def set(self, case, token, context):
        case.headers = case.headers or {}
        if ends_the_session(case):
            token = sign_in()
        if case.operation.path == "/metrics":
            token = METRICS_TOKEN
        case.headers["Authorization"] = f"Bearer {token}"
        case.headers["X-Api-Key"] = SECRET
