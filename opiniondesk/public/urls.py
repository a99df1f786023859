from django.urls import path

from opiniondesk.public import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("check/", views.check, name="check"),
    path("departments/", views.departments, name="departments"),
    path("fees/", views.fees, name="fees"),
    path("contact/", views.contact, name="contact"),
    # The blank paper forms (申込書, 相談シート, 相談同意書).
    path("forms/<slug:lang>/<slug:form>.pdf", views.blank_form, name="blank-form"),
]
