from django.contrib import admin

from opiniondesk.catalog.models import ConsultHours, Department, Disease, ExtraDocument


class DiseaseInline(admin.TabularInline):
    model = Disease
    extra = 1


class ConsultHoursInline(admin.TabularInline):
    model = ConsultHours
    extra = 1


class ExtraDocumentInline(admin.TabularInline):
    model = ExtraDocument
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "offers_online", "offers_in_person", "is_active"]
    list_editable = ["offers_online", "offers_in_person", "is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [DiseaseInline, ConsultHoursInline, ExtraDocumentInline]
