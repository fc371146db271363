"""E-mail notifications (issue 21 item 4; docs/notifications.md): each e-mail rendered, queued
through the outbox in the event's transaction and sent after the commit, retried with backoff on
SMTP failure (and swept when its dispatch is lost), deduplicated, honouring the preferences."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import notifications_services as notifications
from accounts.models import EncryptedSecret, Membership, User
from accounts.notifications_models import EmailNotification, EmailStatus, NotificationKind
from accounts.notifications_render import email_render
from accounts.tasks import email_notifications_sweep_task
from accounts.tests.flaky_mail import FlakySmtpBackend
from biatec.core import events
from conftest import DEFAULT_PASSWORD, auth_client
from deployments.jobs import DEPLOYMENT
from deployments.models import DeploymentStatus
from deployments.services import job_transition
from deployments.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db

NEW_IP = "203.0.113.7"
CONTRACT = "0x00000000000000000000000000000000000000c0"


def _org(body: dict) -> str:
    return str(Membership.objects.get(user_id=body["id"]).organization_id)


@pytest.fixture
def alice(user_factory):
    body, client = user_factory("notify.alice")
    return body, client, _org(body)


# --- every e-mail rendered ----------------------------------------------------------------------

RENDER_CASES = {
    NotificationKind.DEPLOYMENT_COMPLETED: (
        {"deployment_id": "d-1", "standard": "erc20-mintable", "network": "evm-local", "organization_name": "Acme",
         "token_name": "Acme Share", "token_symbol": "ACS", "contract_address": "0xabc"},
        "Deployment completed: erc20-mintable on evm-local", ["Acme Share (ACS)", "0xabc", "/deployments/d-1"]),
    NotificationKind.DEPLOYMENT_FAILED: (
        {"deployment_id": "d-2", "standard": "asa-fungible", "network": "algorand-localnet",
         "organization_name": "Acme", "error_code": "CHAIN_UNAVAILABLE", "error_message": "The node did not answer.",
         "retryable": True},
        "Deployment failed: asa-fungible on algorand-localnet",
        ["CHAIN_UNAVAILABLE - The node did not answer.", "/deployments/d-2/retry"]),
    NotificationKind.APPROVAL_REQUESTED: (
        {"approval_id": "a-1", "organization_name": "Acme", "operation_kind": "forced_transfer", "token_id": "t-1",
         "requested_by_email": "issuer@example.com", "gated_by": "kind", "expires_at": "2026-12-08 10:00:00"},
        "Approval requested: forced_transfer for Acme", ["issuer@example.com asks", "/api/v1/approvals/a-1"]),
    NotificationKind.INVITATION: (
        {"organization_name": "Acme", "role": "issuer", "inviter_email": "owner@example.com",
         "expires_at": "2026-12-13 10:00:00"},
        "You are invited to join Acme", ["owner@example.com invites you", "as issuer", "https://app/accept?t=TOK",
                                         '{"token": "TOK"}']),
    NotificationKind.QUOTA_WARNING: (
        {"organization_name": "Acme", "quota": "deployments_per_month", "used": 8, "limit": 10, "percent": 80,
         "period": "2026-12"},
        "Quota at 80%: deployments_per_month (Acme)", ["used 8 of its 10 deployments_per_month (80%)"]),
    NotificationKind.QUOTA_REACHED: (
        {"organization_name": "Acme", "quota": "deployments_per_month", "used": 10, "limit": 10, "percent": 100,
         "period": "2026-12"},
        "Quota reached: deployments_per_month (Acme)", ["all of its 10 deployments_per_month", "QUOTA_EXCEEDED"]),
    NotificationKind.SECURITY_NEW_LOGIN: (
        {"email": "a@example.com", "ip_address": NEW_IP, "user_agent": "curl/8", "at": "2026-12-06 21:00:00"},
        f"New sign-in to your account from {NEW_IP}", [f"Address: {NEW_IP}", "Client: curl/8", "cannot be turned off"]),
    NotificationKind.SECURITY_PASSWORD_CHANGED: (
        {"email": "a@example.com", "ip_address": NEW_IP, "at": "2026-12-06 21:00:00"},
        "Your password was changed", ["a@example.com was changed at 2026-12-06 21:00:00", f"from {NEW_IP}"]),
    NotificationKind.SECURITY_ACCOUNT_LOCKED: (
        {"email": "a@example.com", "ip_address": NEW_IP, "threshold": 5, "locked_until": "2026-12-06 21:30:00"},
        "Sign-ins to your account are locked", ["After 5 wrong passwords", "until 2026-12-06 21:30:00"]),
}


def test_every_kind_has_a_render_case():
    assert set(RENDER_CASES) == set(NotificationKind)


@pytest.mark.parametrize("kind", list(RENDER_CASES), ids=str)
def test_each_e_mail_renders_subject_text_and_html(kind):
    context, subject, phrases = RENDER_CASES[kind]
    secret = {"accept_url": "https://app/accept?t=TOK", "token": "TOK"} if kind == NotificationKind.INVITATION else {}
    rendered = email_render(kind, context, secret)
    assert rendered.subject == f"[Biatec Tokens] {subject}"
    for phrase in phrases:
        assert phrase in rendered.text, (phrase, rendered.text)
    assert rendered.html.startswith("<!DOCTYPE html>") and context[next(iter(context))] in rendered.html
    assert "{{" not in rendered.text and "{%" not in rendered.text
    assert "TOK" not in repr(rendered)


# --- queued through the outbox, sent after the commit -------------------------------------------

def test_the_invitation_mail_carries_the_link_never_stored_logged_or_shown(alice, json_logs, admin_client,
                                                                           django_capture_on_commit_callbacks):
    _, client, org = alice
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/organizations/{org}/invitations",
                               {"email": "Invitee@Example.com", "role": "issuer"}, format="json")
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    [message] = mail.outbox
    assert message.to == ["invitee@example.com"]
    assert message.subject == "[Biatec Tokens] You are invited to join notify.alice@example.com's organization"
    assert f"http://localhost:8000/invitations/accept?token={token}" in message.body
    assert "notify.alice@example.com invites you" in message.body and "as issuer" in message.body
    assert token in message.alternatives[0][0]  # the html part's link

    notification = EmailNotification.objects.get(kind=NotificationKind.INVITATION)
    assert notification.status == EmailStatus.SENT and notification.attempts == 1 and notification.sent_at
    assert notification.secret_id is None  # the sealed link went with the sending
    assert not EncryptedSecret.objects.filter(owner_id=str(notification.pk)).exists()
    assert token not in str(notification.context) and token not in notification.subject
    assert token not in json_logs.text

    page = admin_client.get(f"/admin/accounts/emailnotification/{notification.pk}/change/")
    assert page.status_code == 200 and b"[hidden]" in page.content and token.encode() not in page.content
    listing = admin_client.get("/admin/accounts/emailnotification/?status__exact=sent")
    assert listing.status_code == 200 and b"invitee@example.com" in listing.content


def test_nothing_is_mailed_for_a_rolled_back_change_and_nothing_inside_it(alice, django_capture_on_commit_callbacks):
    body, _, org = alice
    membership = Membership.objects.get(user_id=body["id"])
    from accounts.members_services import invitation_create

    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        invitation_create(actor=membership, email="rolled.back@example.com", role="viewer")
        assert EmailNotification.objects.filter(to_email="rolled.back@example.com").exists()
        assert mail.outbox == []  # written, not sent, inside the transaction
        raise RuntimeError("the request fails after the write")
    assert not EmailNotification.objects.filter(to_email="rolled.back@example.com").exists()
    assert mail.outbox == []


def _finish(deployment, to: str, **kwargs):
    return job_transition(job_type=DEPLOYMENT, job_id=deployment.pk, to=to, reason="test", actor="system:worker",
                          **kwargs)


def test_deployment_completed_and_failed_mail_the_creator_once_per_transition(
        alice, django_capture_on_commit_callbacks):
    body, _, org = alice
    user = User.objects.get(pk=body["id"])
    done = DeploymentFactory(organization_id=org, creator=user, status=DeploymentStatus.INDEXED)
    broken = DeploymentFactory(organization_id=org, creator=user, status=DeploymentStatus.QUEUED)
    with django_capture_on_commit_callbacks(execute=True):
        _finish(done, DeploymentStatus.COMPLETED, results={"contract_address": CONTRACT})
        _finish(broken, DeploymentStatus.FAILED, error={"code": "CHAIN_UNAVAILABLE", "message": "No node.",
                                                        "retryable": True})
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["[Biatec Tokens] Deployment completed: erc20-mintable on evm-local",
                        "[Biatec Tokens] Deployment failed: erc20-mintable on evm-local"]
    assert all(m.to == [user.email] for m in mail.outbox)
    completed = next(m for m in mail.outbox if "completed" in m.subject)
    assert CONTRACT in completed.body and str(done.pk) in completed.body
    failed = next(m for m in mail.outbox if "failed" in m.subject)
    assert "CHAIN_UNAVAILABLE - No node." in failed.body and "/retry" in failed.body

    # The same event published again (a redelivered event) mails nobody twice: the dedupe key holds.
    row = done.events.order_by("-id").first()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        events.publish(DEPLOYMENT.event(done.__class__.objects.get(pk=done.pk), row, DeploymentStatus.INDEXED))
    assert len(mail.outbox) == 2
    assert EmailNotification.objects.filter(kind=NotificationKind.DEPLOYMENT_COMPLETED).count() == 1


# --- retried on SMTP failure, swept when the dispatch is lost ----------------------------------

def _queue_password_mail(user: User) -> EmailNotification:
    with transaction.atomic():
        notification = notifications.notification_enqueue(
            kind=NotificationKind.SECURITY_PASSWORD_CHANGED, to_email=user.email, user=user,
            dedupe_key=f"test:{user.pk}", context={"email": user.email, "ip_address": "", "at": "now"})
    assert notification is not None
    return notification


def test_an_smtp_failure_is_retried_with_backoff_until_delivered(alice, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "accounts.tests.flaky_mail.FlakySmtpBackend"
    settings.EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS = [60, 300]
    settings.EMAIL_NOTIFICATIONS_RETRY_JITTER = 0.1
    FlakySmtpBackend.calls, FlakySmtpBackend.FAIL_TIMES = 0, 2
    user = User.objects.get(pk=alice[0]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        notification = _queue_password_mail(user)

    notification.refresh_from_db()  # the first attempt, dispatched on commit, met a dropped connection
    assert (notification.status, notification.attempts) == (EmailStatus.RETRYING, 1)
    assert notification.last_error == "SMTPServerDisconnected" and mail.outbox == []
    first_delay = (notification.next_attempt_at - notification.last_attempt_at).total_seconds()
    assert 54 <= first_delay <= 67  # 60 s +/- 10 %
    assert email_notifications_sweep_task() == 0  # not due yet: nothing dispatched

    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
        assert email_notifications_sweep_task() == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (EmailStatus.RETRYING, 2)
    second_delay = (notification.next_attempt_at - notification.last_attempt_at).total_seconds()
    assert 269 <= second_delay <= 331  # the next step of the backoff: 300 s +/- 10 %

    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
        assert email_notifications_sweep_task() == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == (EmailStatus.SENT, 3, "")
    [message] = mail.outbox
    assert message.subject == "[Biatec Tokens] Your password was changed" and message.to == [user.email]
    assert message.extra_headers["Message-ID"] == f"<notification-{notification.pk}@localhost>"
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert email_notifications_sweep_task() == 0  # sent: never again


def test_attempts_run_out_and_a_refused_recipient_fails_at_once(alice, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "accounts.tests.flaky_mail.FlakySmtpBackend"
    settings.EMAIL_NOTIFICATIONS_RETRY_DELAYS_SECONDS = [60]
    FlakySmtpBackend.calls, FlakySmtpBackend.FAIL_TIMES = 0, 10
    user = User.objects.get(pk=alice[0]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        notification = _queue_password_mail(user)
    notification.refresh_from_db()
    with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
        email_notifications_sweep_task()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.next_attempt_at) == (EmailStatus.FAILED, 2, None)

    settings.EMAIL_BACKEND = "accounts.tests.flaky_mail.RefusingSmtpBackend"
    notification.delete()
    with django_capture_on_commit_callbacks(execute=True):
        refused = _queue_password_mail(user)
    refused.refresh_from_db()
    assert (refused.status, refused.attempts, refused.last_error) == (EmailStatus.FAILED, 1,
                                                                      "SMTPRecipientsRefused: 550")


def test_the_sweep_sends_what_a_lost_dispatch_left(alice):
    user = User.objects.get(pk=alice[0]["id"])
    notification = _queue_password_mail(user)  # no on-commit callback ran: the dispatch is lost
    assert EmailNotification.objects.get(pk=notification.pk).status == EmailStatus.PENDING and mail.outbox == []
    assert email_notifications_sweep_task() == 1
    assert EmailNotification.objects.get(pk=notification.pk).status == EmailStatus.SENT
    assert len(mail.outbox) == 1


# --- preferences ----------------------------------------------------------------------------------

def test_preferences_api_turns_optional_kinds_off_never_security_ones(alice):
    _, client, _ = alice
    answer = client.get("/api/v1/account/notification-preferences").json()
    assert answer["preferences"] == dict.fromkeys(NotificationKind.values, True)
    assert set(answer["mandatory"]) == {"invitation", "security_new_login", "security_password_changed",
                                        "security_account_locked"}

    response = client.put("/api/v1/account/notification-preferences",
                          {"preferences": {"deployment_completed": False, "quota_warning": False}}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["preferences"]["deployment_completed"] is False
    assert response.json()["preferences"]["deployment_failed"] is True
    again = client.put("/api/v1/account/notification-preferences", {"preferences": {"quota_warning": True}},
                       format="json").json()["preferences"]
    assert again["quota_warning"] is True and again["deployment_completed"] is False  # the others kept

    refused = client.put("/api/v1/account/notification-preferences",
                         {"preferences": {"security_new_login": False}}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION_ERROR"
    unknown = client.put("/api/v1/account/notification-preferences", {"preferences": {"newsletter": False}},
                         format="json")
    assert unknown.status_code == 400 and "newsletter" in str(unknown.json()["details"])
    assert client.put("/api/v1/account/notification-preferences", {}, format="json").status_code == 400
    assert APIClient().get("/api/v1/account/notification-preferences").status_code == 401


def test_preferences_are_honoured_when_queued_and_when_sent(alice, django_capture_on_commit_callbacks):
    body, client, org = alice
    user = User.objects.get(pk=body["id"])
    client.put("/api/v1/account/notification-preferences", {"preferences": {"deployment_completed": False}},
               format="json")
    done = DeploymentFactory(organization_id=org, creator=user, status=DeploymentStatus.INDEXED)
    with django_capture_on_commit_callbacks(execute=True):
        _finish(done, DeploymentStatus.COMPLETED)
    assert mail.outbox == [] and not EmailNotification.objects.filter(user=user).exists()

    # Queued while on, turned off before it went out: skipped, not sent.
    with transaction.atomic():
        queued = notifications.notify_quota_threshold(organization_id=org, kind="deployments_per_month", used=8,
                                                      limit=10)
    assert [n.kind for n in queued] == [NotificationKind.QUOTA_WARNING]
    client.put("/api/v1/account/notification-preferences", {"preferences": {"quota_warning": False}}, format="json")
    email_notifications_sweep_task()
    assert EmailNotification.objects.get(pk=queued[0].pk).status == EmailStatus.SKIPPED and mail.outbox == []


# --- security events --------------------------------------------------------------------------

def _login(email: str, password: str = DEFAULT_PASSWORD, ip: str = "127.0.0.1") -> int:
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json",
                            REMOTE_ADDR=ip).status_code


def test_security_mails_new_ip_password_change_and_lockout(alice, settings, django_capture_on_commit_callbacks):
    body, _, _ = alice
    email = body["email"]
    with django_capture_on_commit_callbacks(execute=True):
        assert _login(email) == 200  # the sign-up's address: nothing
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert _login(email, ip=NEW_IP) == 200
        assert _login(email, ip=NEW_IP) == 200  # seen now: no second e-mail
    [new_login] = mail.outbox
    assert new_login.subject == f"[Biatec Tokens] New sign-in to your account from {NEW_IP}"
    assert new_login.to == [email] and f"Address: {NEW_IP}" in new_login.body

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD):
            _login(email, password="a wrong password, long enough", ip="198.51.100.9")
        assert _login(email, ip="198.51.100.9") == 423
    locked = [m for m in mail.outbox if "locked" in m.subject]
    assert len(locked) == 1 and "from 198.51.100.9" in locked[0].body

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client(body["tokens"]).post("/api/v1/auth/change-password", {
            "current_password": DEFAULT_PASSWORD, "new_password": "another correct horse battery 43!"}, format="json")
    assert response.status_code == 200, response.content
    changed = [m for m in mail.outbox if m.subject == "[Biatec Tokens] Your password was changed"]
    assert len(changed) == 1 and email in changed[0].body
    assert {n.kind for n in EmailNotification.objects.filter(user_id=body["id"])} == {
        NotificationKind.SECURITY_NEW_LOGIN, NotificationKind.SECURITY_ACCOUNT_LOCKED,
        NotificationKind.SECURITY_PASSWORD_CHANGED}
    assert all(n.organization_id is None for n in EmailNotification.objects.filter(user_id=body["id"]))


def test_unknown_e_mails_get_no_lockout_mail(db, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(settings.LOGIN_LOCKOUT_THRESHOLD + 1):
            _login("nobody.here@example.com", password="a wrong password, long enough")
    assert mail.outbox == [] and not EmailNotification.objects.exists()


# --- hooks for approvals and quotas -----------------------------------------------------------

def test_approval_requests_mail_the_approvers_but_not_the_requester(alice, user_factory,
                                                                    django_capture_on_commit_callbacks):
    owner_body, _, org = alice
    issuer_body, _ = user_factory("notify.issuer")
    approver_body, _ = user_factory("notify.approver")
    viewer_body, _ = user_factory("notify.viewer")
    for member, role in ((issuer_body, "issuer"), (approver_body, "approver"), (viewer_body, "viewer")):
        Membership.objects.create(user_id=member["id"], organization_id=org, role=role)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queued = notifications.notify_approval_requested(
            approval_id="a1b2", organization_id=org, requested_by_id=issuer_body["id"],
            operation_kind="forced_transfer", token_id="t-9", gated_by="kind")
        # a second call for the same request (a retried event) adds nothing
        notifications.notify_approval_requested(approval_id="a1b2", organization_id=org,
                                                requested_by_id=issuer_body["id"], operation_kind="forced_transfer",
                                                token_id="t-9")
    assert len(queued) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["notify.alice@example.com", "notify.approver@example.com"]
    assert all("notify.issuer@example.com asks for your approval of a forced_transfer" in m.body
               for m in mail.outbox)


def test_quota_thresholds_mail_owners_and_admins_once_each(alice, user_factory, django_capture_on_commit_callbacks):
    _, _, org = alice
    admin_body, _ = user_factory("notify.admin")
    issuer_body, _ = user_factory("notify.issuer2")
    Membership.objects.create(user_id=admin_body["id"], organization_id=org, role="admin")
    Membership.objects.create(user_id=issuer_body["id"], organization_id=org, role="issuer")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.notify_quota_threshold(organization_id=org, kind="operations", used=7, limit=10) == []
        assert len(notifications.notify_quota_threshold(organization_id=org, kind="operations", used=8, limit=10,
                                                        period="2026-12")) == 2
        assert notifications.notify_quota_threshold(organization_id=org, kind="operations", used=9, limit=10,
                                                    period="2026-12") == []
        assert len(notifications.notify_quota_threshold(organization_id=org, kind="operations", used=10, limit=10,
                                                        period="2026-12")) == 2
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert [s for _, s in subjects].count("[Biatec Tokens] Quota at 80%: operations (notify.alice@example.com's "
                                          "organization)") == 2
    assert {to for to, _ in subjects} == {"notify.alice@example.com", "notify.admin@example.com"}
    assert len(mail.outbox) == 4


def test_approval_changed_event_hook_when_the_approvals_feature_publishes_it():
    """The subscriber reads only the event's fields (`ApprovalChanged` of the approvals branch)."""
    from accounts import notifications_subscribers

    class Event:
        change, approval_id, organization_id, token_id = "approved", "x", "y", "z"
        data: dict = {}

    assert notifications_subscribers.on_approval_changed(Event()) is None  # only "requested" mails


# --- a real SMTP conversation ----------------------------------------------------------------

def test_through_a_real_smtp_server_that_refuses_the_first_connection(alice, settings,
                                                                      django_capture_on_commit_callbacks):
    """Django's SMTP backend against a loopback SMTP server answering 421 to the first connection:
    the attempt fails (SMTPConnectError), the retry delivers the message over SMTP."""
    from accounts.tests.smtp_server import SmtpServer

    user = User.objects.get(pk=alice[0]["id"])
    with SmtpServer(drop_first=1) as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        with django_capture_on_commit_callbacks(execute=True):
            notification = _queue_password_mail(user)
        notification.refresh_from_db()
        assert (notification.status, notification.attempts) == (EmailStatus.RETRYING, 1)
        assert notification.last_error == "SMTPConnectError: 421" and server.received == []

        with time_machine.travel(notification.next_attempt_at + timedelta(seconds=1)):
            assert email_notifications_sweep_task() == 1
        notification.refresh_from_db()
        assert (notification.status, notification.attempts) == (EmailStatus.SENT, 2)
        [raw] = server.received
    assert b"Subject: [Biatec Tokens] Your password was changed" in raw
    assert f"To: {user.email}".encode() in raw and f"notification-{notification.pk}@localhost".encode() in raw
    assert b"Content-Type: text/html" in raw  # the html alternative travelled too
