"""Legal holds in the Django admin (/admin/): administrators place a hold on a case and lift it,
each through the records services (audited); a hold is never edited otherwise nor deleted."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from opiniondesk.accounts.models import Role
from opiniondesk.records.models import LegalHold
from opiniondesk.records.selectors import active_holds
from opiniondesk.records.services import hold_lift, hold_place


def _is_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.role == Role.ADMIN)


class PlaceForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["case", "reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        case = data.get("case")
        if case is not None and active_holds().filter(case=case).exists():
            raise ValidationError(_("This case is already on hold."))
        return data


class LiftForm(forms.ModelForm):
    lift_reason = forms.CharField(label=_("reason for lifting"), widget=forms.Textarea)

    class Meta:
        model = LegalHold
        fields = ["lift_reason"]


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    list_display = ["case", "placed_at", "placed_by", "lifted_at", "lifted_by"]
    list_filter = [("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["=case__id"]
    raw_id_fields = ["case"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs["form"] = LiftForm if obj is not None else PlaceForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["lift_reason"] if obj is not None else ["case", "reason"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return []

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only an active hold changes, once: it is lifted.
        return _is_admin(request) and (obj is None or obj.active)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LegalHold, form: Any, change: bool) -> None:
        if change:
            saved = hold_lift(
                hold_id=obj.pk,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["lift_reason"],
                request=request,
            )
        else:
            saved = hold_place(
                case_id=form.cleaned_data["case"].pk,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                request=request,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()
