"""What is kept (SPEC §11.16): the one list of kept tables, from which the database guard
(records/guard.py) and the purge read. Adding a kept table is one line here plus a migration
that installs its guard (`guard.install`, as migration 0002 does); a test checks that every
table listed is guarded in the database."""

from dataclasses import dataclass

from django.apps import apps

from opiniondesk.records.guard import Guarded


@dataclass(frozen=True)
class Kept:
    """A kept model: `link` is its field that leads to the case, through `via` (a kept model
    with a `case` field) when the row belongs to a row of the case."""

    model: str
    link: str = "case"
    via: str = ""
    draft_free: bool = False  # an applicant's draft may still drop these rows


KEPT: tuple[Kept, ...] = (
    # The application and its history.
    Kept("cases.Case", link="id"),
    Kept("cases.Proxy", draft_free=True),
    Kept("cases.CaseTransition"),
    Kept("records.CaseRevision"),
    Kept("records.LegalHold"),
    # The materials.
    Kept("documents.Document"),
    # The consult record.
    Kept("consults.ReviewSession"),
    Kept("consults.Consult"),
    Kept("consults.ConsultEvent", link="consult", via="consults.Consult"),
    Kept("consults.ChatMessage", link="consult", via="consults.Consult"),
    # Charges and receipts.
    Kept("billing.Charge"),
    Kept("billing.Refund", link="charge", via="billing.Charge"),
    Kept("billing.Receipt", link="charge", via="billing.Charge"),
    # The opinion, its deliveries and what was disclosed to whom.
    Kept("opinions.Opinion"),
    Kept("opinions.OpinionVersion", link="opinion", via="opinions.Opinion"),
    Kept("opinions.OpinionDelivery"),
    Kept("opinions.Disclosure"),
    Kept("interop.DisclosureRequest"),
    Kept("referrals.ReferralImport"),
    Kept("referrals.PaperApplication"),
)


def guarded(kept: Kept) -> Guarded:
    """The kept model as the guard's triggers name it: tables and columns."""
    model = apps.get_model(kept.model)
    link = "id" if kept.link == "id" else model._meta.get_field(kept.link).column
    via = apps.get_model(kept.via)._meta.db_table if kept.via else ""
    return Guarded(model._meta.db_table, link, via, kept.draft_free)


def guarded_tables() -> list[Guarded]:
    return [guarded(kept) for kept in KEPT]


def ensure_guard(using: str = "default", **kwargs: object) -> None:
    """Put back any guard missing from a kept table (post_migrate): SQLite drops a table's
    triggers when a migration rebuilds it. Nothing to do until the guard's migration is in."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from opiniondesk.records.guard import install_statements, installed

    connection = connections[using]
    if ("records", "0002_guard") not in MigrationRecorder(connection).applied_migrations():
        return
    missing = [table for table in guarded_tables() if table.table not in installed(connection)]
    if missing:
        with connection.cursor() as cursor:
            for statement in install_statements(connection.vendor, missing):
                cursor.execute(statement)
