"""The billing desk under /staff/billing/."""

from django.urls import path

from opiniondesk.desk import billing_desk as views

urlpatterns = [
    path("", views.billing_home, name="billing-home"),
    path("totals/", views.billing_totals, name="billing-totals"),
    path("export/", views.billing_export, name="billing-export"),
    path("charges/<id:charge_id>/", views.billing_charge, name="billing-charge"),
    path("charges/<id:charge_id>/retry/", views.charge_retry, name="billing-charge-retry"),
    path("charges/<id:charge_id>/to-desk/", views.charge_to_desk, name="billing-charge-to-desk"),
    path("charges/<id:charge_id>/collect/", views.charge_collect, name="billing-charge-collect"),
    path("charges/<id:charge_id>/waive/", views.charge_waive, name="billing-charge-waive"),
    path(
        "charges/<id:charge_id>/bill-zero/",
        views.charge_bill_zero,
        name="billing-charge-bill-zero",
    ),
    path("charges/<id:charge_id>/refund/", views.charge_refund, name="billing-charge-refund"),
    path(
        "charges/<id:charge_id>/refunds/<id:refund_id>/resend/",
        views.refund_resend,
        name="billing-refund-resend",
    ),
    path("cases/<id:case_id>/open-charge/", views.open_missing, name="billing-open-missing"),
]
