"""The staff back office in a real browser (issue 21 item 6, docs/back-office.md): a staff user logs
in through the login page with a TOTP code, opens the dashboard (every chart drawn, no console
error), finds a deployment by correlation ID from the header's search, sees its history and
transactions inline and retries it with the admin action; a compliance-group user sees the same
pages read-only (no save button, a POST refused). A screenshot of every step."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from accounts.models import Membership, User
from compliance.services import compliance_group_ensure
from deployments import services
from deployments.models import Deployment, DeploymentTransaction
from deployments.services import deployment_transition
from deployments.tests.factories import DeploymentFactory
from tests.otp import totp_code, totp_device_confirmed

# transaction=True: the live server needs committed rows. The compliance group with its permissions
# is data of the migrations, which the flush after an earlier transactional test removes: the test
# makes it again with the service that repairs it (serialized_rollback instead would restore the
# content types a flush's post_migrate has already recreated: a duplicate key in a full run).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a staff password that is long 7"
CORRELATION_ID = "req-browser-retry-1"
CHARTS = {"deployments-by-status", "deployments-by-standard", "operations-by-status", "operations-by-standard",
          "failure-codes", "queue-depth", "webhook-success"}


@pytest.fixture
def failed_deployment(user_factory) -> Deployment:
    """A deployment that failed with a retryable error after its create transaction was sent (no chain
    needed: the row is what the admin shows and retries), and one still queued (queue depth)."""
    body, _ = user_factory("browser.owner")
    membership = Membership.objects.select_related("organization", "user").get(user_id=body["id"])
    deployment = DeploymentFactory(organization=membership.organization, creator=membership.user,
                                   correlation_id=CORRELATION_ID)
    deployment_transition(deployment_id=deployment.pk, to="submitted", reason="signed", actor="system:worker")
    DeploymentTransaction.objects.create(deployment=deployment, step="create", family="evm", network="evm-local",
                                         tx_id="0xbrowser0001", sender="0x2222222222222222222222222222222222222222",
                                         nonce=0, signed_bytes=b"\x02never-shown")
    deployment_transition(deployment_id=deployment.pk, to="failed", reason="the node was down", actor="system:worker",
                          error={"code": "CHAIN_UNAVAILABLE", "message": "node down", "retryable": True})
    DeploymentFactory(organization=membership.organization, creator=membership.user, standard="asa")
    return deployment


def _staff(email: str, *, superuser: bool) -> User:
    user = User.objects.create_user(email, PASSWORD, is_staff=True, is_superuser=superuser)
    totp_device_confirmed(user)
    return user


def _log_in(browser, user: User) -> None:
    """The real two steps: the password form, then the TOTP code an authenticator app would show."""
    browser.open("/admin/")
    browser.driver.find_element(By.NAME, "username").send_keys(user.email)
    browser.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.screenshot("login password")
    browser.driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser.driver, 20).until(ec.presence_of_element_located((By.NAME, "code")))
    browser.driver.find_element(By.NAME, "code").send_keys(totp_code(totp_device_confirmed(user)))
    browser.screenshot("login totp")
    browser.driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser.driver, 30).until(ec.presence_of_element_located((By.ID, "dashboard")))


def _dashboard_checked(browser) -> None:
    driver = browser.driver
    figures = driver.find_elements(By.CSS_SELECTOR, "#dashboard figure.chart")
    assert {f.get_attribute("data-chart") for f in figures} == CHARTS
    for figure in figures:
        image = figure.find_element(By.TAG_NAME, "img")
        drawn = driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image)
        assert drawn and drawn > 100, figure.get_attribute("data-chart")
        assert figure.find_elements(By.CSS_SELECTOR, "details table thead th")  # the same numbers as a table
    table = driver.find_element(By.CSS_SELECTOR, "#chart-failure-codes table")
    assert "CHAIN_UNAVAILABLE" in table.get_attribute("textContent")
    assert driver.find_element(By.ID, "drift-alerts") and driver.find_element(By.ID, "usage-per-plan")
    browser.screenshot("dashboard")
    assert browser.console_errors() == []


def _find_by_correlation_id(browser, deployment: Deployment) -> None:
    """From the header's search box (on every admin page) to the deployment's page."""
    driver = browser.driver
    box = driver.find_element(By.ID, "correlation-search-input")
    box.send_keys(CORRELATION_ID)
    driver.find_element(By.CSS_SELECTOR, "#correlation-search button[type=submit]").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".correlation-section")))
    browser.screenshot("correlation search")
    assert browser.console_errors() == []
    link = driver.find_element(By.CSS_SELECTOR, f"a[href$='/deployments/deployment/{deployment.pk}/change/']")
    link.click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "events-group")))
    page = driver.find_element(By.TAG_NAME, "body").get_attribute("textContent")
    assert "0xbrowser0001" in page and "CHAIN_UNAVAILABLE" in page and "the node was down" in page
    assert "never-shown" not in driver.page_source
    browser.screenshot("deployment history and transactions")
    assert browser.console_errors() == []
    driver.find_element(By.CSS_SELECTOR, "a.historylink").click()  # simple-history's record of the row
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "change-history")))
    browser.screenshot("deployment change history")
    assert browser.console_errors() == []
    driver.back()


def test_staff_dashboard_search_and_retry(browser, failed_deployment, monkeypatch):
    # No worker in this test: the retried row waits in `queued` (what a worker does next is the
    # pipeline's tests); the eager task would otherwise run inside the live server's request.
    monkeypatch.setattr(services, "job_enqueue_on_commit", lambda job_type, job_id: None)
    staff = _staff("browser.staff@example.com", superuser=True)
    _log_in(browser, staff)
    _dashboard_checked(browser)
    _find_by_correlation_id(browser, failed_deployment)

    driver = browser.driver
    browser.open(f"/admin/deployments/deployment/?q={CORRELATION_ID}")
    driver.find_element(By.CSS_SELECTOR, f"input.action-select[value='{failed_deployment.pk}']").click()
    Select(driver.find_element(By.NAME, "action")).select_by_value("retry_failed")
    browser.screenshot("retry action chosen")
    driver.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    assert "Re-queued 1 deployment(s)." in driver.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    browser.screenshot("retried")
    assert browser.console_errors() == []

    failed_deployment.refresh_from_db()
    assert failed_deployment.status == "queued"
    last = failed_deployment.events.order_by("id").last()
    assert (last.from_status, last.to_status) == ("failed", "queued")
    assert last.actor == f"user:{staff.pk}" and last.reason == "retried by staff in the admin"
    browser.open(f"/admin/deployments/deployment/{failed_deployment.pk}/change/")
    events = driver.find_element(By.ID, "events-group").get_attribute("textContent")
    assert "retried by staff in the admin" in events
    browser.screenshot("history after retry")


def test_compliance_user_sees_the_same_pages_read_only(browser, failed_deployment):
    auditor = _staff("browser.compliance@example.com", superuser=False)
    auditor.groups.add(compliance_group_ensure())
    _log_in(browser, auditor)
    _dashboard_checked(browser)
    _find_by_correlation_id(browser, failed_deployment)
    driver = browser.driver
    assert not driver.find_elements(By.CSS_SELECTOR, "input[name=_save], input[name=_continue], "
                                                     "input[name=_addanother], input[type=submit][value=Save]")

    browser.open(f"/admin/deployments/deployment/?q={CORRELATION_ID}")
    assert str(failed_deployment.pk) in driver.page_source
    options = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "select[name=action] option")]
    assert "retry_failed" not in options
    browser.screenshot("compliance changelist without retry")
    assert browser.console_errors() == []

    # A POST to the change form, with the session's CSRF token (the logout form's): refused.
    change_url = f"/admin/deployments/deployment/{failed_deployment.pk}/change/"
    browser.open(change_url)
    status = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = document.querySelector('#logout-form input[name=csrfmiddlewaretoken]').value;
        const body = new URLSearchParams({csrfmiddlewaretoken: token, status: 'completed', _save: 'Save'});
        fetch(arguments[0], {method: 'POST', body: body, credentials: 'same-origin'})
            .then(r => done(r.status), e => done(String(e)));
    """, change_url)
    assert status == 403
    browser.screenshot("compliance post refused")
    assert browser.console_errors(ignore=change_url) == []
    failed_deployment.refresh_from_db()
    assert failed_deployment.status == "failed"
