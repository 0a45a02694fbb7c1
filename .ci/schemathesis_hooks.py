"""Schemathesis hooks for .ci/schemathesis: credentials that survive the run.

The run calls every operation, `POST /v1/auth/logout` among them, which ends the session it was
given; so the session is fetched by signing in, and fetched again whenever a response is 401
(schemathesis's caching auth provider does the refetch). Every request carries the tenant's
secret key as well, so the secret-key operations are exercised with their own credential.
"""
import os

import requests
import schemathesis

BASE = os.environ["KANRI_ST_BASE"]
EMAIL = os.environ["KANRI_ST_EMAIL"]
PASSWORD = os.environ["KANRI_ST_PASSWORD"]
SECRET = os.environ["KANRI_ST_SECRET_KEY"]
PUBLISHABLE = os.environ["KANRI_ST_PUBLISHABLE_KEY"]


@schemathesis.auth(refresh_interval=120)
class KanriAuth:
    def get(self, case, context):
        res = requests.post(
            BASE + "/v1/auth/login",
            json={"email": EMAIL, "password": PASSWORD},
            headers={"X-Api-Key": PUBLISHABLE},
            timeout=30,
        )
        res.raise_for_status()
        return res.json()["data"]["token"]

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers.setdefault("Authorization", f"Bearer {token}")
        case.headers.setdefault("X-Api-Key", SECRET)
