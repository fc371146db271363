"""The main job end to end on the embedded default (SQLite, inline tasks, local chain nodes).

Run through `make demo`, which starts the local chain stack and exports its URLs. Talks to the
product only through its REST API (in-process WSGI transport: same views, middleware and auth as
over a socket).
"""
from __future__ import annotations

import json
import os
import sys
import uuid

import httpx

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biatec.settings.local")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def api() -> httpx.Client:
    from biatec.wsgi import application

    return httpx.Client(transport=httpx.WSGITransport(app=application), base_url="http://127.0.0.1")


def main() -> int:
    client = api()
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    password = "demo passphrase for biatec tokens"
    registered = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    if registered.status_code != 201:
        print("register failed:", registered.status_code, registered.text)
        return 1
    access = registered.json()["tokens"]["access"]
    headers = {"Authorization": f"Bearer {access}"}
    profile = client.get("/api/v1/auth/profile", headers=headers).json()
    print("Registered demo user; profile:")
    print(json.dumps(profile, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
