"""Secret scan: run the demo's flow on the local chain nodes, then look for every secret the run
created in every log line, every response body, every admin page (rendered as staff) and every
non-sealed text/JSON/binary column of every table: 0 hits.

The secrets are taken from where they really live: every sealed secret in the key vault is opened
(ARC-76 seeds, per-chain EVM keys, webhook signing secrets, the platform attestation key) and looked
for with its data key, in hex (with and without 0x), base64 (standard and URL-safe) and, for text
secrets, as text; 32-byte ed25519 seeds also as py-algorand-sdk private keys and 25-word mnemonics
(and their first six words). Besides those: every password used, the JWT signing key, Django's
SECRET_KEY and the key-encryption keys. The only bodies left out are the two whose purpose is to show
a webhook secret once (create, rotate-secret); the scan is shown to find the secret there.
"""
from __future__ import annotations

import base64
import importlib.util
import io
import secrets
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from algosdk import mnemonic as algo_mnemonic
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from accounts import arc76, keyvault
from accounts.models import EncryptedSecret, User
from tests.otp import otp_force_login
from webhooks.tests.conftest import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.chain, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# One token per family and kind of contract; the request bodies are the demo's (scripts/demo.py).
STANDARDS = ["erc20-mintable", "erc20-preminted", "asa-ft", "arc3-nft", "arc200-mintable", "arc1400-mintable"]
TERMINAL = {"completed", "failed", "cancelled"}
# The columns that hold sealed ciphertext (and its wrapped data key and nonces): the only ones not scanned.
SEALED_COLUMNS = {("accounts_encryptedsecret", c) for c in ("wrapped_key", "wrap_nonce", "ciphertext", "nonce")}
MIN_NEEDLE = 12


def _demo_requests() -> dict[str, dict]:
    spec = importlib.util.spec_from_file_location("biatec_demo_script", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.token_requests())


@dataclass
class Needle:
    label: str
    text: str
    fold_case: bool = False  # hex: any case


@dataclass
class Haystack:
    texts: list[tuple[str, str]] = field(default_factory=list)
    blobs: list[tuple[str, bytes]] = field(default_factory=list)

    def add(self, where: str, content: Any) -> None:
        if isinstance(content, (bytes, bytearray, memoryview)):
            raw = bytes(content)
            self.blobs.append((where, raw))
            self.texts.append((where, raw.decode("utf-8", errors="replace")))
            self.texts.append((where + " (hex)", raw.hex()))
        elif content is not None:
            self.texts.append((where, str(content)))

    def hits(self, needles: Iterable[Needle], raw_secrets: Iterable[tuple[str, bytes]] = ()) -> list[str]:
        found = []
        folded = [(where, text.lower()) for where, text in self.texts]
        for needle in needles:
            pool = folded if needle.fold_case else self.texts
            value = needle.text.lower() if needle.fold_case else needle.text
            found += [f"{needle.label} in {where}" for where, text in pool if value in text]
        for label, raw in raw_secrets:
            found += [f"{label} (raw bytes) in {where}" for where, blob in self.blobs if raw in blob]
        return found


def _forms(label: str, raw: bytes) -> list[Needle]:
    hexed = raw.hex()
    needles = [Needle(f"{label} hex", hexed, True), Needle(f"{label} 0x-hex", "0x" + hexed, True),
               Needle(f"{label} base64", base64.b64encode(raw).decode()),
               Needle(f"{label} base64url", base64.urlsafe_b64encode(raw).decode().rstrip("="))]
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if text.isprintable() and len(text) >= MIN_NEEDLE:
        needles.append(Needle(f"{label} text", text))
    if len(raw) == 32:  # an ed25519 seed: also the Algorand forms
        private_key = arc76.algorand_private_key(raw)
        words = algo_mnemonic.from_private_key(private_key)
        needles += [Needle(f"{label} algorand private key", private_key), Needle(f"{label} mnemonic", words),
                    Needle(f"{label} mnemonic (6 words)", " ".join(words.split()[:6]))]
    return needles


class Recorder:
    """An API client that keeps every response body (apart from those that show a secret once)."""

    def __init__(self, haystack: Haystack) -> None:
        self.haystack = haystack
        self.shown_once: list[str] = []
        self.client = APIClient()

    def authenticate(self, access: str) -> None:
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    def call(self, method: str, path: str, body: Any = None, *, shows_secret: bool = False,
             expect: int | None = None) -> Any:
        response = getattr(self.client, method)(path, body, format="json") if body is not None else \
            getattr(self.client, method)(path)
        content = response.content
        if shows_secret:
            self.shown_once.append(content.decode())
        else:
            self.haystack.add(f"response {method.upper()} {path}", content)
            if response.get("Content-Type", "").startswith("application/zip"):
                with zipfile.ZipFile(io.BytesIO(content)) as bundle:
                    for name in bundle.namelist():
                        self.haystack.add(f"response {path} [{name}]", bundle.read(name))
        if expect is not None:
            assert response.status_code == expect, (path, response.status_code, content[:500])
        return response


def _run_demo_flow(api: Recorder, passwords: dict[str, str], receiver: Receiver) -> list[str]:
    """Register two users, subscribe a webhook (and rotate its secret), deploy the demo's tokens,
    read everything back, log in, refresh, change a password. Returns the completed deployment ids."""
    tag = secrets.token_hex(4)
    owner, other = f"scan-owner-{tag}@example.com", f"scan-other-{tag}@example.com"
    passwords.update({owner: "scan " + secrets.token_urlsafe(18), other: "scan " + secrets.token_urlsafe(18)})
    registered = api.call("post", "/api/v1/auth/register", {"email": owner, "password": passwords[owner]}, expect=201)
    api.call("post", "/api/v1/auth/register", {"email": other, "password": passwords[other]}, expect=201)
    api.authenticate(registered.json()["tokens"]["access"])
    for path in ("/api/v1/auth/profile", "/api/v1/account/addresses", "/api/v1/networks",
                 "/api/v1/compliance/attestation-key", "/api/v1/compliance/policy"):
        api.call("get", path, expect=200)

    created = api.call("post", "/api/v1/webhooks/subscriptions", {"url": receiver.url, "event_types": ["*"]},
                       shows_secret=True, expect=201).json()
    subscription = created["id"]
    api.call("post", f"/api/v1/webhooks/subscriptions/{subscription}/rotate-secret", {}, shows_secret=True,
             expect=200)
    api.call("get", f"/api/v1/webhooks/subscriptions/{subscription}", expect=200)
    api.call("post", f"/api/v1/webhooks/subscriptions/{subscription}/test", {}, expect=202)

    bodies = _demo_requests()
    completed = []
    for standard in STANDARDS:
        response = api.call("post", f"/api/v1/token/{standard}/create", bodies[standard], expect=202)
        deployment_id = response.json()["id"]
        started = time.monotonic()
        detail = response.json()
        while detail["status"] not in TERMINAL and time.monotonic() - started < 120:
            time.sleep(0.2)
            detail = api.call("get", f"/api/v1/token/deployments/{deployment_id}").json()
        assert detail["status"] == "completed", detail
        completed.append(deployment_id)
        for suffix in ("", "/history", "/audit-trail?format=json", "/audit-trail?format=csv"):
            api.call("get", f"/api/v1/token/deployments/{deployment_id}{suffix}", expect=200)
    first = completed[0]
    api.call("post", f"/api/v1/compliance/deployments/{first}/attestation", {}, expect=201)
    api.call("get", f"/api/v1/compliance/deployments/{first}/evidence-bundle", expect=200)
    for path in ("/api/v1/token/deployments", "/api/v1/webhooks/deliveries", "/api/v1/webhooks/subscriptions",
                 "/api/v1/compliance/audit-log", "/api/v1/compliance/audit-log?format=csv",
                 "/api/v1/compliance/report", "/api/v1/compliance/report?format=csv", "/api/v1/account/addresses"):
        api.call("get", path, expect=200)
    deliveries = api.call("get", "/api/v1/webhooks/deliveries").json()["results"]
    assert deliveries, "the webhook subscription received no delivery"
    for delivery in deliveries[:5]:
        api.call("get", f"/api/v1/webhooks/deliveries/{delivery['id']}", expect=200)

    wrong = api.call("post", "/api/v1/auth/login", {"email": owner, "password": passwords[owner] + "x"})
    assert wrong.status_code in (401, 423)
    login = api.call("post", "/api/v1/auth/login", {"email": owner, "password": passwords[owner]}, expect=200)
    api.call("post", "/api/v1/auth/refresh", {"refresh": login.json()["refresh"]}, expect=200)
    new_password = "scan new " + secrets.token_urlsafe(18)
    passwords[owner + " (new)"] = new_password
    api.call("post", "/api/v1/auth/change-password",
             {"current_password": passwords[owner], "new_password": new_password}, expect=200)
    return completed


def _admin_pages(haystack: Haystack, staff_password: str) -> int:
    staff = User.objects.create_superuser(f"scan-staff-{secrets.token_hex(3)}@example.com", staff_password)
    browser = Client()
    otp_force_login(browser, staff)
    rendered = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        try:
            changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        paths = [changelist]
        for obj in model._default_manager.all()[:5]:
            paths += [reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk])
                      for view in ("change", "history")]
        for path in paths:
            page = browser.get(path)
            assert page.status_code == 200, (path, page.status_code)
            haystack.add(f"admin {path}", page.content)
            rendered += 1
    return rendered


def _database(haystack: Haystack) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'bytea') ORDER BY 1, 2")
        columns = [(t, c, d) for t, c, d in cursor.fetchall() if (t, c) not in SEALED_COLUMNS]
        values = 0
        for table, column, data_type in columns:
            quoted = f'{connection.ops.quote_name(table)}'
            expression = connection.ops.quote_name(column) + ("" if data_type == "bytea" else "::text")
            cursor.execute(f"SELECT {expression} FROM {quoted} WHERE {connection.ops.quote_name(column)} IS NOT NULL")
            for (value,) in cursor.fetchall():
                haystack.add(f"db {table}.{column}", value)
                values += 1
    return values


def _secrets_of_the_run(passwords: dict[str, str], staff_password: str) -> tuple[list[Needle], list[tuple[str, bytes]]]:
    needles = [Needle(f"password of {who}", pw) for who, pw in passwords.items()]
    needles.append(Needle("staff password", staff_password))
    raw: list[tuple[str, bytes]] = []
    for sealed in EncryptedSecret.objects.all():
        label = f"sealed {sealed.purpose} of {sealed.owner_id}"
        plaintext = keyvault.open_sealed(sealed)
        data_key = keyvault._unwrap_data_key(sealed)
        needles += _forms(label, plaintext) + _forms(f"data key of {label}", data_key)
        raw += [(label, plaintext), (f"data key of {label}", data_key)]
    for entry in settings.KEY_ENCRYPTION_KEYS:
        kid, _, encoded = str(entry).partition(":")
        kek = base64.b64decode(encoded)
        needles += _forms(f"KEK {kid}", kek)
        raw.append((f"KEK {kid}", kek))
    needles += [Needle("JWT signing key", settings.SIMPLE_JWT["SIGNING_KEY"]),
                Needle("SECRET_KEY", settings.SECRET_KEY)]
    return [n for n in needles if len(n.text) >= MIN_NEEDLE], raw


def test_no_secret_of_a_demo_run_in_logs_responses_admin_or_database(
        anvil_node, algod_devnet_node, ipfs_node, json_logs, capsys, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    haystack = Haystack()
    api = Recorder(haystack)
    passwords: dict[str, str] = {}
    receiver = Receiver()
    try:
        completed = _run_demo_flow(api, passwords, receiver)
        for request in receiver.requests:
            haystack.add(f"webhook body to {request.path}", request.body)
            haystack.add(f"webhook headers to {request.path}", repr(request.headers))
    finally:
        receiver.close()
    assert len(completed) == len(STANDARDS)
    staff_password = "scan staff " + secrets.token_urlsafe(18)
    pages = _admin_pages(haystack, staff_password)
    values = _database(haystack)
    captured = capsys.readouterr()
    haystack.add("log lines", json_logs.text)
    haystack.add("stdout", captured.out)
    haystack.add("stderr", captured.err)

    needles, raw = _secrets_of_the_run(passwords, staff_password)
    purposes = {s.purpose for s in EncryptedSecret.objects.all()}
    assert {"arc76-seed", "evm-key:31337"} <= purposes, purposes
    assert any(p.startswith("webhook") for p in purposes) and len(purposes) >= 4, purposes
    assert pages > 30 and values > 100 and json_logs.text.count("\n") > 50, (pages, values)

    # The scan finds a secret where one is meant to be: the webhook secret in its one-time answer.
    shown = Haystack()
    for body in api.shown_once:
        shown.add("one-time secret answer", body)
    assert any("webhook" in hit for hit in shown.hits(needles)), "the scan does not find the webhook secret"

    hits = haystack.hits(needles, raw)
    assert hits == [], "\n".join(sorted(set(hits))[:50])
