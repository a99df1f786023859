"""The migration that spread the kept case counts over shards, on a database in use: cases in
it and triggers on cases_case that name the counts' table (SQLite refuses to rebuild a table
that a trigger names, unless the triggers are dropped first)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from opiniondesk.cases.state_counts import ensure_triggers
from opiniondesk.cases.tests.test_scale_reads import kept_rows, scanned_rows
from opiniondesk.cases.workflow import Status
from opiniondesk.testing.builders import case_in

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("cases", "0011_queue_open_index")

# Stand-ins for 0011's triggers: what matters is that they name cases_casestatecount.
OLD_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER case_count_insert AFTER INSERT ON cases_case "
        "BEGIN UPDATE cases_casestatecount SET n = n WHERE 0; END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION case_count_change() RETURNS trigger AS $$ BEGIN "
        "UPDATE cases_casestatecount SET n = n WHERE false; RETURN NULL; END; $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER case_count_insert AFTER INSERT ON cases_case "
        "FOR EACH ROW EXECUTE FUNCTION case_count_change()",
    ],
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_the_shard_migration_counts_a_database_in_use_again():
    # Given: cases, and the database of 0011 with triggers on cases_case.
    cases = [case_in(status) for status in (Status.SUBMITTED, Status.ACCEPTED, Status.REJECTED)]
    executor = _migrate([BEFORE])
    with connection.cursor() as cursor:
        for statement in OLD_TRIGGERS[connection.vendor]:
            cursor.execute(statement)

    # When: it is migrated to today's schema.
    executor.loader.build_graph()
    _migrate(executor.loader.graph.leaf_nodes())

    # Then: every case is counted, in its shard, and today's triggers count what comes next.
    assert ensure_triggers(connection) is False
    assert sum(kept_rows().values()) == len(cases)
    assert kept_rows() == scanned_rows()
    case_in(Status.SUBMITTED)
    assert kept_rows() == scanned_rows()
