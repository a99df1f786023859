from django.contrib import admin

from opiniondesk.billing.models import FeeSchedule, FeeTier


class FeeTierInline(admin.TabularInline):
    model = FeeTier
    extra = 1


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "note"]
    inlines = [FeeTierInline]
