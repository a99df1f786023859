"""Every page, as its people reach it, checked for accessibility in one walk per person (SPEC §13,
issue #16 item 3): axe-core finds no WCAG 2.x A/AA violation on any page, patients' or staff's,
and every patient page reflows at 200 % zoom on a 390-pixel phone (195 CSS pixels: nothing
scrolls sideways, the page's heading is on the first screen).

Which pages there are comes from the URL conf: `test_every_page_is_walked` fails when a route
is neither in a walk nor named as no page of its own (a download, a POST-only action), so a new
page cannot be forgotten. Each walk also checks that it reached every page it claims."""

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from opiniondesk.accounts.models import User
from opiniondesk.billing import services as billing
from opiniondesk.cases.wizard import steps
from opiniondesk.cases.workflow import Status
from opiniondesk.documents.services import upload_link_create
from opiniondesk.opinions.services import link_send
from opiniondesk.readiness.services import invitation_create
from opiniondesk.scheduling.services import offer_create
from opiniondesk.scheduling.tests import factories
from opiniondesk.testing.accessibility import (
    ZOOMED_PHONE,
    axe_source,
    axe_violations,
    reflow_problems,
)
from opiniondesk.testing.builders import case_in, completed_case, opinion_signed, ready_case
from opiniondesk.testing.personas import persona

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}

# Patients' (and visitors', physicians') pages, by URL name, and the walk that reaches each.
PATIENT_PAGES = {
    "home": "visitor",
    "check": "visitor",
    "departments": "visitor",
    "fees": "visitor",
    "contact": "visitor",
    "account_login": "visitor",
    "account_signup": "visitor",
    "account_reset_password": "visitor",
    "account_confirm_email": "visitor",
    "physician-upload": "visitor",
    "opinion-link": "visitor",
    "dashboard": "patient",
    "case-step": "patient",
    "case-detail": "patient",
    "case-documents": "patient",
    "case-booking-change": "patient",
    "case-booking-cancel": "patient",
    "case-identity": "patient",
    "case-consent": "patient",
    "device-check": "patient",
    "card-setup": "patient",
    "consult-room": "patient",
    "case-invite-patient": "family",
    "patient-invitation": "family",
    "case-patient-privacy": "family-patient",
}
STAFF_PAGES = {
    "staff-home": "coordinator",
    "staff-queue": "coordinator",
    "staff-case": "coordinator",
    "staff-case-history": "coordinator",
    "staff-schedule": "coordinator",
    "staff-disclosures": "coordinator",
    "referral-upload": "coordinator",
    "staff-paper-open": "coordinator",
    "staff-lead-times": "coordinator",
    "staff-consults": "specialist",
    "staff-opinion": "specialist",
    "billing-home": "billing",
    "billing-totals": "billing",
    "billing-charge": "billing",
}
# Routes that are no page of their own: files, POST-only actions (each redirects to a page
# above when asked with GET), machine endpoints, and allauth's pages a patient never sees in
# this service (e-mail management, password change inside the account, the staff's 2FA set-up).
NOT_PAGES = {
    "set_language", "account_logout", "account_inactive", "account_reauthenticate",
    "account_email", "account_email_verification_sent", "account_change_password",
    "account_set_password", "account_confirm_login_code",
    "account_reset_password_from_key_done", "account_reset_password_from_key",
    "account_reset_password_done", "mfa_index", "mfa_authenticate", "mfa_reauthenticate",
    "mfa_activate_totp", "mfa_deactivate_totp", "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes", "mfa_download_recovery_codes", "billing-webhook",
    "case-withdraw", "case-receipt", "case-new", "case-submit", "upload-link-create",
    "document-file", "case-book", "case-booking-ics", "card-setup-done", "charge-confirm",
    "consult-token", "blank-form", "opinion-link-pdf", "case-opinion-copy",
    "case-disclosure-request", "healthz", "healthz-web",
}  # fmt: skip
# Staff routes that are actions (POST), files, htmx fragments, or pages
# not reachable from these walks' states.
STAFF_NOT_PAGES = {
    "billing-export", "billing-charge-retry", "billing-charge-to-desk", "billing-charge-collect",
    "billing-charge-waive", "billing-charge-bill-zero", "billing-charge-refund",
    "billing-refund-resend", "billing-open-missing", "staff-disclosure-pdf",
    "staff-disclosure-fhir", "staff-disclosure-fulfil", "staff-receipt", "staff-case-screen",
    "staff-case-request-documents", "staff-case-phone-log", "staff-paper-received",
    "staff-paper-submit", "staff-paper-handover", "staff-paper-attach", "staff-case-reject",
    "staff-case-refer",
    "staff-case-withdraw", "staff-case-accept", "staff-case-decline", "staff-review-start",
    "staff-review-stop", "staff-review-correct", "staff-visit-start", "staff-visit-end",
    "staff-no-show", "staff-offer-create", "staff-offer-withdraw", "staff-booking-change",
    "staff-booking-cancel", "staff-identity-check", "staff-schedule-away", "staff-schedule-extra",
    "staff-schedule-remove", "staff-case-slots", "staff-opinion-draft", "staff-opinion-sign",
    "staff-opinion-correct", "staff-opinion-pdf", "staff-opinion-link", "staff-opinion-post",
    "staff-opinion-details", "referral-upload-case", "referral-preview",
    # Pages this walk does not reach yet (see the report of issue #16): a disclosure request's
    # page, a correction of the application, the paper application's pages, the preview of an
    # opinion (a POST), the specialist's consult room (needs a camera).
    "staff-disclosure", "staff-case-correct", "staff-paper", "staff-paper-step",
    "staff-opinion-preview", "staff-consult-room",
}  # fmt: skip
OUTSIDE = ("admin/", "api/", "i18n/", "static/", "media/")


def route_names(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, str]]:
    for entry in (resolver or get_resolver()).url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from route_names(entry, prefix + pattern)
        else:
            assert isinstance(entry, URLPattern)
            yield prefix + pattern, entry.name or ""


@pytest.mark.django_db(transaction=False)
def test_every_page_is_walked():
    patient, staff = set(), set()
    for route, name in route_names():
        if route.startswith(OUTSIDE) or route == "billing/webhooks/<slug:provider>/":
            continue
        (staff if route.startswith("staff/") else patient).add(name)
    assert patient - set(PATIENT_PAGES) - NOT_PAGES == set(), "patient routes in no walk"
    assert staff - set(STAFF_PAGES) - STAFF_NOT_PAGES == set(), "staff routes in no walk"
    assert not (set(PATIENT_PAGES) - patient) and not (set(STAFF_PAGES) - staff), "stale names"


def test_the_vendored_axe_core_is_the_pinned_one():
    assert axe_source().startswith("/*! axe v4.14.1")


def test_the_checks_see_what_they_look_for(browser):
    """A page with a box that scrolls but takes no focus, and a table wider than the phone."""
    page = browser.new_page(viewport=ZOOMED_PHONE)
    page.set_content(
        '<html lang="en"><title>t</title><main><h1>A page</h1>'
        '<div style="max-height: 3rem; overflow-y: auto">' + "<p>A line.</p>" * 20 + "</div>"
        '<table style="width: 30rem"><tr><td>wide</td></tr></table></main></html>'
    )
    assert [v.split(" ")[0] for v in axe_violations(page)] == ["scrollable-region-focusable"]
    [problem] = reflow_problems(page)
    assert problem.startswith("scrolls sideways") and "table" in problem
    page.context.close()


def test_the_reflow_check_sees_overflow_in_a_phone_s_browser_too(browser):
    """In a mobile context the browser zooms out to fit what overflows (innerWidth grows with
    it); the check measures against the screen the test asked for."""
    context = browser.new_context(viewport=ZOOMED_PHONE, is_mobile=True)
    page = context.new_page()
    page.set_content(
        '<html lang="en"><head><meta name="viewport" content="width=device-width, '
        'initial-scale=1"></head><title>t</title><main><h1>A page</h1>'
        '<table style="width: 30rem"><tr><td>wide</td></tr></table></main></html>'
    )
    [problem] = reflow_problems(page)
    assert problem.startswith("scrolls sideways") and "table" in problem
    context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module, watched for CSP violations as the shared fixture is. Its
    event loop runs in this thread until the module ends, past each test's database flush, so
    Django's guard against blocking calls in async code is off for as long (as conftest does
    for one test)."""
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM_FLAGS
    from opiniondesk.testing.browser import chromium_or_skip, csp_watched

    executable = chromium_or_skip()
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as pw:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        with csp_watched(launched) as watched:
            yield watched
        launched.close()


class Walk:
    """One person's browser at 200 % zoom on a phone; `visit` checks each page it opens."""

    def __init__(self, browser: Any, site: str, user: User | None, *, reflow: bool) -> None:
        self.site, self.reflow = site, reflow
        self.context = browser.new_context(locale="ja-JP", viewport=ZOOMED_PHONE)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            self.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": site}])
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.visited: set[str] = set()

    def visit(self, path: str, *, desktop: bool = False) -> None:
        response = self.page.goto(self.site + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        where = self.page.url.removeprefix(self.site)
        self.visited.add(resolve(where.split("#")[0].split("?")[0]).url_name or "")
        self.screenshot(where, "195")
        if self.reflow:
            self.problems += [f"{where} at 195px: {p}" for p in reflow_problems(self.page)]
        self.problems += [f"{where} at 195px: {v}" for v in axe_violations(self.page)]
        if desktop:  # the header's menu is open on a wide screen: axe sees it there
            self.page.set_viewport_size(DESKTOP)
            self.problems += [f"{where} at 1280px: {v}" for v in axe_violations(self.page)]
            self.screenshot(where, "1280")
            self.page.set_viewport_size(ZOOMED_PHONE)

    def screenshot(self, where: str, width: str) -> None:
        """The first screen, for a person to look at (SCREENSHOTS=folder)."""
        if folder := os.environ.get("SCREENSHOTS"):
            name = where.strip("/").replace("/", "-")[:40] or "home"
            self.page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=width == "195")

    def check(self, pages: dict[str, str], walk: str) -> None:
        self.context.close()
        wanted = {name for name, by in pages.items() if by == walk}
        assert wanted <= self.visited, f"not reached: {sorted(wanted - self.visited)}"
        assert not self.problems, "\n".join(["Accessibility problems:", *self.problems])


@pytest.fixture
def site(live_server, seeded) -> str:
    return live_server.url


def test_a_visitor_and_a_physician_see_accessible_pages(browser, site, smtp_inbox, run_tasks):
    case = completed_case(mode="in_person")
    case.physician_email = "suzuki@clinic.example.jp"
    case.save(update_fields=["physician_email"])
    opinion_signed(case)
    upload = upload_link_create(case=case, actor=case.applicant, days=7)
    run_tasks()
    before = len(smtp_inbox.messages)
    link_send(case_id=case.pk, actor=persona("dr_tanaka"))
    run_tasks()
    [*_, body] = smtp_inbox.bodies()[before:]
    token = re.search(r"/opinion/([A-Za-z0-9_-]+)/", body).group(1)

    walk = Walk(browser, site, None, reflow=True)
    walk.visit(reverse("public:home"), desktop=True)
    for name in ["check", "departments", "fees", "contact"]:
        walk.visit(reverse(f"public:{name}"))
    for name in ["account_login", "account_signup", "account_reset_password"]:
        walk.visit(reverse(name))
    walk.visit(reverse("physician-upload", args=[upload]))
    walk.visit(reverse("opinion-link", args=[token]))
    # The e-mail confirmation link, before and after it is used.
    newcomer = User.objects.create_user("walk-newcomer", "walk.newcomer@example.jp")
    address = EmailAddress.objects.create(user=newcomer, email=newcomer.email, primary=True)
    key = EmailConfirmationHMAC(address).key
    walk.visit(reverse("account_confirm_email", args=[key]))
    EmailAddress.objects.filter(pk=address.pk).update(verified=True)
    walk.visit(reverse("account_confirm_email", args=[key]))
    walk.check(PATIENT_PAGES, "visitor")


def test_a_patient_sees_accessible_pages_at_every_step(browser, site, billing_ito):
    hana = persona("patient_hana")
    draft = case_in(Status.DRAFT, applicant=hana, documents=False)
    waiting = case_in(Status.AWAITING_DOCUMENTS, applicant=hana)
    offered = case_in(Status.ACCEPTED, applicant=hana)
    slots = factories.free_slots(offered, limit=6)[::2]
    offer_create(
        case_id=offered.pk,
        actor=persona("coordinator_sato"),
        slots=[(s.specialist_id, s.starts_at) for s in slots],
        hold_until=factories.hold_until_for(slots),
    )
    ready = ready_case(applicant=hana)
    done = completed_case(mode="in_person", applicant=hana)
    billing.collect(charge_id=done.charge.pk, actor=billing_ito, method="cash")
    opinion_signed(done)

    walk = Walk(browser, site, hana, reflow=True)
    walk.visit(reverse("dashboard"), desktop=True)
    for step in steps():
        walk.visit(reverse("case-step", args=[draft.pk, step.slug]))
    walk.visit(reverse("case-detail", args=[waiting.pk]))
    walk.visit(reverse("case-documents", args=[waiting.pk]))
    walk.visit(reverse("case-detail", args=[offered.pk]))
    for name in ["case-detail", "case-booking-change", "case-booking-cancel", "case-identity"]:
        walk.visit(reverse(name, args=[ready.pk]))
    for name in ["case-consent", "device-check", "card-setup", "consult-room"]:
        walk.visit(reverse(name, args=[ready.pk]))
    walk.visit(reverse("case-detail", args=[done.pk]))  # the receipt and the opinion
    walk.check(PATIENT_PAGES, "patient")


def test_a_family_member_sees_accessible_pages(browser, site):
    ken = persona("proxy_ken")
    case = case_in(Status.ACCEPTED, relation="child", applicant=ken)
    token = invitation_create(case_id=case.pk, actor=ken, email="hana@example.jp")
    walk = Walk(browser, site, ken, reflow=True)
    walk.visit(reverse("case-invite-patient", args=[case.pk]))
    walk.visit(reverse("patient-invitation", args=[token]))
    walk.check(PATIENT_PAGES, "family")
    # The patient of a case her son applied for: her own acceptance of the privacy policy.
    hana = persona("patient_hana")
    theirs = case_in(Status.ACCEPTED, relation="child", applicant=ken, patient_account=hana)
    walk = Walk(browser, site, hana, reflow=True)
    walk.visit(reverse("case-patient-privacy", args=[theirs.pk]))
    walk.check(PATIENT_PAGES, "family-patient")


def test_a_coordinator_sees_accessible_pages(browser, site):
    screening = case_in(Status.SCREENING)
    accepted = case_in(Status.ACCEPTED)
    walk = Walk(browser, site, persona("coordinator_sato"), reflow=False)
    walk.visit(reverse("staff-home"), desktop=True)
    walk.visit(reverse("staff-queue"), desktop=True)
    walk.visit(reverse("staff-case", args=[screening.pk]), desktop=True)
    walk.visit(reverse("staff-case", args=[accepted.pk]), desktop=True)
    walk.visit(reverse("staff-case-history", args=[accepted.pk]))
    walk.visit(reverse("staff-schedule"), desktop=True)
    walk.visit(reverse("staff-disclosures"))
    walk.visit(reverse("referral-upload"))
    walk.visit(reverse("staff-paper-open"))
    walk.visit(reverse("staff-lead-times"), desktop=True)
    walk.check(STAFF_PAGES, "coordinator")
    # The lead times' tables become cards on a phone: checked for reflow at 195 CSS pixels.
    walk = Walk(browser, site, persona("coordinator_sato"), reflow=True)
    walk.visit(reverse("staff-lead-times"))
    walk.check({"staff-lead-times": "lead times"}, "lead times")


def test_queue_case_and_self_check_reflow_in_english_at_200_percent_zoom(browser, site):
    """Found walking make run in English at 195 CSS pixels: the queue's cards, the case page
    (a grid column as wide as its longest word) and the self-check's choices and step headings
    ("Documents" beside its number) were wider than the screen; in Japanese they fit."""
    missing = case_in(Status.AWAITING_DOCUMENTS, relation="child", documents=False)
    for language in ("en", "ja"):
        walk = Walk(browser, site, persona("coordinator_sato"), reflow=True)
        walk.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": site}]
        )
        walk.visit(reverse("staff-queue"))
        walk.visit(reverse("staff-case", args=[missing.pk]))
        walk.visit(reverse("public:check"))
        walk.check({}, language)


def test_the_wizard_s_heading_is_on_the_first_screen_in_english_at_200_percent_zoom(browser, site):
    """Found walking make run in English at 195 CSS pixels: the header (the hospital's and the
    service's longer English names, the language button and "Menu" on two rows) pushed each
    wizard step's heading below the first screen; in Japanese it fitted."""
    hana = persona("patient_hana")
    draft = case_in(Status.DRAFT, applicant=hana, documents=False)
    walk = Walk(browser, site, hana, reflow=True)
    walk.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": site}])
    walk.visit(reverse("dashboard"))
    for step in steps():
        walk.visit(reverse("case-step", args=[draft.pk, step.slug]))
    walk.visit(reverse("public:home"))
    walk.check({}, "en")


def test_a_specialist_sees_accessible_pages(browser, site):
    referred = case_in(Status.REFERRED)
    done = completed_case(mode="in_person")
    tanaka = persona("dr_tanaka")
    walk = Walk(browser, site, tanaka, reflow=False)
    walk.visit(reverse("staff-queue"), desktop=True)
    walk.visit(reverse("staff-case", args=[referred.pk]), desktop=True)
    walk.visit(reverse("staff-consults"), desktop=True)
    walk.visit(reverse("staff-opinion", args=[done.pk]), desktop=True)
    walk.check(STAFF_PAGES, "specialist")


def test_a_billing_clerk_sees_accessible_pages(browser, site):
    done = completed_case(mode="in_person")
    walk = Walk(browser, site, persona("billing_ito"), reflow=False)
    walk.visit(reverse("billing-home"), desktop=True)
    walk.visit(reverse("billing-totals"), desktop=True)
    walk.visit(reverse("billing-charge", args=[done.charge.pk]), desktop=True)
    walk.check(STAFF_PAGES, "billing")
