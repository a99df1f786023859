"""The database triggers that keep CaseStateCount, and a full recount.

Triggers, not signals: bulk loads, restores and raw updates count too. Each count is kept in
`SHARDS` rows, picked by the case's id, and read as their sum: a count in one row made every
transition of a department's cases wait for the one before it to commit (every booking of the
load test's, say), as each locked that row until its end. On SQLite a migration that rebuilds
cases_case drops its triggers, so `ensure_triggers` runs after every migrate and recounts
whenever it had to create them. A decrement only updates an existing row: a flush may
empty the counts before the cases, and must not leave negative rows behind.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

TRIGGERS = ("case_count_insert", "case_count_update", "case_count_delete")
SHARDS = 16

_KEY_NEW = (
    "NEW.status, COALESCE(NEW.department_id, 0), NEW.channel, NEW.mode, "
    f"NEW.referred_at IS NOT NULL, NEW.id % {SHARDS}"
)
_MATCH_OLD = (
    "status = OLD.status AND department_id = COALESCE(OLD.department_id, 0) "
    "AND channel = OLD.channel AND mode = OLD.mode AND referred = (OLD.referred_at IS NOT NULL) "
    f"AND shard = OLD.id % {SHARDS}"
)
_COLUMNS = "status, department_id, channel, mode, referred, shard"
# Constant SQL put together from the constants above; no value from outside reaches it.
_UPSERT_NEW = f"""INSERT INTO cases_casestatecount ({_COLUMNS}, n)
    VALUES ({_KEY_NEW}, 1) ON CONFLICT ({_COLUMNS})
    DO UPDATE SET n = cases_casestatecount.n + 1"""  # noqa: S608
_DECREMENT_OLD = f"UPDATE cases_casestatecount SET n = n - 1 WHERE {_MATCH_OLD}"  # noqa: S608
_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status "
    "OR OLD.department_id IS DISTINCT FROM NEW.department_id "
    "OR OLD.channel IS DISTINCT FROM NEW.channel "
    "OR OLD.mode IS DISTINCT FROM NEW.mode "
    "OR (OLD.referred_at IS NULL) <> (NEW.referred_at IS NULL)"
)

SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS case_count_insert AFTER INSERT ON cases_case "
    f"BEGIN {_UPSERT_NEW}; END",
    f"CREATE TRIGGER IF NOT EXISTS case_count_update AFTER UPDATE ON cases_case "
    f"WHEN {_CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
    f"BEGIN {_DECREMENT_OLD}; {_UPSERT_NEW}; END",
    f"CREATE TRIGGER IF NOT EXISTS case_count_delete AFTER DELETE ON cases_case "
    f"BEGIN {_DECREMENT_OLD}; END",
]

# Two transactions moving cases between the same two counts in opposite directions would lock
# the two rows in opposite orders: the function always touches the smaller key first.
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION case_count_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_UPSERT_NEW};
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        {_DECREMENT_OLD};
        RETURN NULL;
    END IF;
    IF NOT ({_CHANGED}) THEN
        RETURN NULL;
    END IF;
    IF ({_KEY_NEW}) < (OLD.status, COALESCE(OLD.department_id, 0), OLD.channel, OLD.mode,
                       OLD.referred_at IS NOT NULL, OLD.id % {SHARDS}) THEN
        {_UPSERT_NEW};
        {_DECREMENT_OLD};
    ELSE
        {_DECREMENT_OLD};
        {_UPSERT_NEW};
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql""",
    *(
        f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON cases_case "
        f"FOR EACH ROW EXECUTE FUNCTION case_count_change()"
        for name, event in zip(TRIGGERS, ("INSERT", "UPDATE", "DELETE"), strict=True)
    ),
]

RECOUNT = [
    "DELETE FROM cases_casestatecount",
    f"""INSERT INTO cases_casestatecount ({_COLUMNS}, n)
    SELECT status, COALESCE(department_id, 0), channel, mode, referred_at IS NOT NULL,
        id % {SHARDS}, COUNT(*)
    FROM cases_case GROUP BY 1, 2, 3, 4, 5, 6""",  # noqa: S608
]


def _existing(connection: BaseDatabaseWrapper) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases_case'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases_case'"
            )
        return {row[0] for row in cursor.fetchall()}


def ensure_triggers(connection: BaseDatabaseWrapper) -> bool:
    """Create the triggers where they are missing and then recount; True when it had to."""
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"no case count triggers for {connection.vendor}")
    if set(TRIGGERS) <= _existing(connection):
        return False
    statements = POSTGRESQL if connection.vendor == "postgresql" else SQLITE
    with connection.cursor() as cursor:
        for statement in [*statements, *RECOUNT]:
            cursor.execute(statement)
    return True


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    """Before a migration changes cases_casestatecount: SQLite rebuilds a changed table under a
    new name and refuses while a trigger on cases_case names the old one."""
    on = " ON cases_case" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """Replace the triggers with the ones above and recount (a migration that changed them)."""
    drop_triggers(connection)
    ensure_triggers(connection)


def recount(connection: BaseDatabaseWrapper) -> None:
    """Count every case again (after a restore that bypassed the triggers, say)."""
    with connection.cursor() as cursor:
        for statement in RECOUNT:
            cursor.execute(statement)
