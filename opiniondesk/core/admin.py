"""The task queue in the Django admin without what the tasks carry: a mail task's arguments are
the whole message (password-reset and invitation links included), and no task's arguments or
return value are for the admin role to read. Status, times and tracebacks stay visible."""

from django.contrib import admin
from django.http import HttpRequest
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

HIDDEN = ("args_kwargs", "return_value")


class TaskResultAdmin(DBTaskResultAdmin):
    def get_readonly_fields(
        self, request: HttpRequest, obj: DBTaskResult | None = None
    ) -> list[str]:
        return [f for f in super().get_readonly_fields(request, obj) if f not in HIDDEN]


admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskResultAdmin)
