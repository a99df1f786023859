"""Receipt downloads (領収書, SPEC §11.17): the patient's from their case page, the billing
staff's from the billing desk. Every download is audited; every copy after the first is marked
再発行 (reissue)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from opiniondesk.accounts.models import Role
from opiniondesk.audit.services import audit_denied
from opiniondesk.billing import services
from opiniondesk.billing.models import Receipt
from opiniondesk.billing.receipt_pdf import receipt_pdf
from opiniondesk.billing.wording import receipt_filename
from opiniondesk.cases.access import patient_case_for_request


def _download(request: HttpRequest, receipt: Receipt) -> HttpResponse:
    receipt, reissue = services.receipt_downloaded(
        receipt_id=receipt.pk, user=request.user, request=request
    )
    response = HttpResponse(receipt_pdf(receipt, reissue=reissue), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(receipt.number)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@never_cache
@require_safe
def case_receipt(request: HttpRequest, case_id: int, receipt_id: int) -> HttpResponse:
    """A receipt of the case, for its applicant or the patient's own account."""
    case = patient_case_for_request(request, case_id)
    receipt = Receipt.objects.filter(pk=receipt_id, charge__case=case).first()
    if receipt is None:
        audit_denied(request, case_id=case.pk, path=request.path[:200], receipt=receipt_id)
        raise Http404
    return _download(request, receipt)


@login_required
@never_cache
@require_safe
def staff_receipt(request: HttpRequest, receipt_id: int) -> HttpResponse:
    """Any receipt, for the billing staff (to hand over or post a copy)."""
    if request.user.role != Role.BILLING_CLERK:
        audit_denied(request, path=request.path[:200], receipt=receipt_id)
        raise PermissionDenied
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is None:
        raise Http404
    return _download(request, receipt)
