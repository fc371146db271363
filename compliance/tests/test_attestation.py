"""Attestations and evidence bundles, verified independently with PyNaCl and zipfile."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from rest_framework.test import APIClient

from accounts.keyvault import open_sealed
from accounts.models import EncryptedSecret
from biatec.audit.models import AuditEntry
from compliance.models import Attestation, AttestationKey
from compliance.services import evidence_bundle_build

from .conftest import PROFILE, complete

pytestmark = pytest.mark.django_db


def _public_key() -> VerifyKey:
    body = APIClient().get("/api/v1/compliance/attestation-key").json()  # public: no credentials
    assert body["algorithm"] == "Ed25519"
    raw = base64.b64decode(body["public_key"])
    assert raw.hex() == body["public_key_hex"] and len(raw) == 32
    return VerifyKey(raw)


def _completed(party):
    response = party.create()
    assert response.status_code == 202, response.content
    deployment_id = response.json()["id"]
    complete(deployment_id)
    return deployment_id


def test_attestation_key_is_generated_once_and_sealed():
    first = APIClient().get("/api/v1/compliance/attestation-key").json()
    second = APIClient().get("/api/v1/compliance/attestation-key").json()
    assert first == second
    key = AttestationKey.objects.get()
    secret = EncryptedSecret.objects.get(pk=key.secret_id)
    assert (secret.owner_id, secret.purpose) == ("platform", "attestation-ed25519")
    seed = open_sealed(secret)
    assert seed not in bytes(secret.ciphertext)
    from nacl.signing import SigningKey

    assert bytes(SigningKey(seed).verify_key).hex() == key.public_key


def test_attestation_of_a_completed_deployment_verifies_independently(alice):
    deployment_id = _completed(alice)
    response = alice.client.post(f"/api/v1/compliance/deployments/{deployment_id}/attestation")
    assert response.status_code == 201, response.content
    body = response.json()

    verify_key = _public_key()
    signed = body["statement_canonical"].encode("utf-8")
    verify_key.verify(signed, base64.b64decode(body["signature"]))  # raises if invalid
    assert json.dumps(body["statement"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() == signed

    statement = body["statement"]
    assert statement["type"] == "biatec.deployment-attestation/1"
    assert statement["deployment"]["id"] == deployment_id
    assert statement["deployment"]["status"] == "completed"
    assert statement["network"]["slug"] == "evm-local" and statement["network"]["chain_id"] == 31337
    assert statement["on_chain"]["contract_address"] == "0x" + "22" * 20
    assert statement["tx_ids"] == ["0x" + "11" * 32]
    assert statement["mica"]["overall"] == "compliant"
    assert statement["token"]["symbol"] == "T"
    from compliance.profiles import profile_normalize, profile_sha256

    assert statement["compliance_profile_sha256"] == profile_sha256(profile_normalize(PROFILE))
    assert statement["key_id"] == body["public_key"]["key_id"]
    assert statement["issued_at"]

    tampered = signed.replace(b'"compliant"', b'"non_compliant"')
    with pytest.raises(BadSignatureError):
        verify_key.verify(tampered, base64.b64decode(body["signature"]))
    assert AuditEntry.objects.filter(action="compliance.attestation_issued", object_id=deployment_id).exists()
    assert AuditEntry.objects.filter(action="security.key_use").exists()
    listed = alice.client.get(f"/api/v1/compliance/deployments/{deployment_id}/attestation").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]


def test_only_completed_deployments_are_attested(alice):
    response = alice.create()
    deployment_id = response.json()["id"]
    refused = alice.client.post(f"/api/v1/compliance/deployments/{deployment_id}/attestation")
    assert refused.status_code == 409
    assert refused.json()["code"] == "DEPLOYMENT_NOT_COMPLETED"
    assert not Attestation.objects.exists()


def test_other_organizations_cannot_attest_or_download(alice, bob):
    deployment_id = _completed(alice)
    assert bob.client.post(f"/api/v1/compliance/deployments/{deployment_id}/attestation").status_code == 404
    assert bob.client.get(f"/api/v1/compliance/deployments/{deployment_id}/evidence-bundle").status_code == 404
    assert bob.client.get(f"/api/v1/compliance/deployments/{deployment_id}/attestation").status_code == 404


def test_evidence_bundle_is_signed_complete_and_deterministic(alice):
    deployment_id = _completed(alice)
    alice.client.post(f"/api/v1/compliance/deployments/{deployment_id}/attestation")

    first = alice.client.get(f"/api/v1/compliance/deployments/{deployment_id}/evidence-bundle")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/zip"
    second = alice.client.get(f"/api/v1/compliance/deployments/{deployment_id}/evidence-bundle")
    assert first.content == second.content, "the same records give the same bytes"

    archive = zipfile.ZipFile(io.BytesIO(first.content))
    names = archive.namelist()
    assert names == sorted(names)
    assert set(names) == {"attestations.json", "audit_entries.json", "compliance_profile.json", "deployment.json",
                          "history.json", "manifest.json", "manifest.sig", "mica_evaluation.json",
                          "onchain_results.json"}
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)

    manifest_bytes = archive.read("manifest.json")
    _public_key().verify(manifest_bytes, base64.b64decode(archive.read("manifest.sig")))
    manifest = json.loads(manifest_bytes)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json", "manifest.sig"}
    for path, entry in listed.items():
        data = archive.read(path)
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["size"]
    assert manifest["deployment_id"] == deployment_id

    history = json.loads(archive.read("history.json"))
    assert [h["to_status"] for h in history] == ["queued", "submitted", "pending", "confirmed", "indexed",
                                                 "completed"]
    assert json.loads(archive.read("mica_evaluation.json"))["mica"]["overall"] == "compliant"
    assert len(json.loads(archive.read("attestations.json"))) == 1
    audit = json.loads(archive.read("audit_entries.json"))
    assert [a["action"] for a in audit].count("deployment.transition") == 6
    assert "compliance.attestation_issued" in {a["action"] for a in audit}
    assert json.loads(archive.read("compliance_profile.json"))["compliance_metadata"] == PROFILE
    assert json.loads(archive.read("onchain_results.json"))["results"]["contract_address"] == "0x" + "22" * 20
    # Each download is audited (but export entries are not part of the bundle).
    assert AuditEntry.objects.filter(action="export.evidence_bundle", object_id=deployment_id).count() == 2


def test_bundle_changes_when_the_record_changes(alice):
    from deployments.models import Deployment

    deployment_id = _completed(alice)
    deployment = Deployment.objects.get(pk=deployment_id)
    before = evidence_bundle_build(deployment=deployment)
    assert evidence_bundle_build(deployment=deployment) == before
    alice.client.post(f"/api/v1/compliance/deployments/{deployment_id}/attestation")
    assert evidence_bundle_build(deployment=deployment) != before
