from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opiniondesk.accounts import services
from opiniondesk.accounts.models import STAFF_ROLES, ApiToken, Role, User
from opiniondesk.accounts.vocabulary import Scope


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "role", "is_active"]
    list_filter = ["role", "is_active"]
    filter_horizontal = ["departments", "groups", "user_permissions"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Hospital role"), {"fields": ["role", "departments", "is_department_head"]}),
    ]


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system holds the token, e.g. the electronic medical record."),
    )
    user = forms.ModelChoiceField(
        label=_("Acts as"),
        queryset=User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("username"),
        help_text=_("The token has this staff user's role and departments."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        help_text=_(
            "Optional, e.g. 2027-03-31 23:59. Leave empty for a token that does not expire."
        ),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators make tokens (the secret is shown once) and revoke them; nothing is edited
    or deleted, so the list stays the record of which system could do what."""

    list_display = ["name", "prefix", "user", "scope_list", "created_at", "expires_at"]
    list_display += ["last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = [
        "name",
        "prefix",
        "user",
        "scope_list",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    def _is_admin(self, request: HttpRequest) -> bool:
        return getattr(request.user, "role", None) == Role.ADMIN

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_admin(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_admin(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset:
            try:
                services.api_token_revoke(token_id=token.pk, actor=request.user, request=request)
            except services.TokenError as exc:
                self.message_user(request, f"{token}: {exc.message}", messages.WARNING)
            else:
                revoked += 1
        if revoked:
            self.message_user(
                request,
                ngettext(
                    "%(count)d token revoked: it no longer works.",
                    "%(count)d tokens revoked: they no longer work.",
                    revoked,
                )
                % {"count": revoked},
                messages.SUCCESS,
            )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenCreateForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("New API token"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                token, secret = services.api_token_create(
                    name=data["name"],
                    user=data["user"],
                    scopes=data["scopes"],
                    expires_at=data["expires_at"],
                    actor=request.user,
                    request=request,
                )
            except services.TokenError as exc:
                form.add_error(None, exc.message)
            else:
                context |= {"title": _("API token created"), "token": token, "secret": secret}
                response = TemplateResponse(
                    request, "admin/accounts/apitoken/created.html", context
                )
                response["Cache-Control"] = "no-store"  # the secret is in this page alone
                return response
        return TemplateResponse(request, "admin/accounts/apitoken/add.html", context)
