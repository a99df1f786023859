"""pg_dump and pg_restore connect as the app does: DATABASE_URL's options (TLS above all)
reach them, the password only through the environment."""

import pytest
from django.db import connection

from opiniondesk.core.backup import BackupError, create_generation, pg_connection_arguments

SETTINGS = {
    "NAME": "opiniondesk",
    "USER": "app",
    "PASSWORD": "s3cret pass",
    "HOST": "db.hospital.example",
    "PORT": 5433,
    "OPTIONS": {},
}


@pytest.mark.parametrize(
    ("options", "conninfo"),
    [
        ({}, "dbname=opiniondesk user=app host=db.hospital.example port=5433"),
        (
            {"sslmode": "verify-full", "sslrootcert": "/etc/opiniondesk/ca.pem"},
            "sslmode=verify-full sslrootcert=/etc/opiniondesk/ca.pem dbname=opiniondesk"
            " user=app host=db.hospital.example port=5433",
        ),
        # What the settings add that libpq does not know is left out; libpq's own kept.
        (
            {"pool": {"min_size": 2}, "isolation_level": 1, "connect_timeout": 5},
            "connect_timeout=5 dbname=opiniondesk user=app host=db.hospital.example port=5433",
        ),
        # A value with a space is quoted.
        (
            {"sslrootcert": "/etc/ssl/hospital ca.pem"},
            "sslrootcert='/etc/ssl/hospital ca.pem' dbname=opiniondesk user=app"
            " host=db.hospital.example port=5433",
        ),
    ],
)
def test_the_connection_string_carries_the_options(options, conninfo):
    args, env = pg_connection_arguments({**SETTINGS, "OPTIONS": options})
    assert args == ["--dbname", conninfo]
    assert env["PGPASSWORD"] == "s3cret pass"


def test_the_password_never_goes_on_the_command_line():
    args, env = pg_connection_arguments({**SETTINGS, "OPTIONS": {"password": "from options"}})
    assert "password" not in " ".join(args) and "s3cret" not in " ".join(args)
    assert env["PGPASSWORD"] == "s3cret pass"  # PASSWORD wins, as it does for the app
    args, env = pg_connection_arguments(
        {**SETTINGS, "PASSWORD": "", "OPTIONS": {"password": "from options"}}
    )
    assert "from options" not in " ".join(args)
    assert env["PGPASSWORD"] == "from options"


@pytest.mark.postgresql
@pytest.mark.django_db
def test_pg_dump_is_held_to_the_tls_the_url_asks_for(tmp_path):
    """With sslmode=verify-full and a CA file that is not there, pg_dump must refuse to connect,
    as the app would: before, it connected without the options and wrote the backup."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options.update(sslmode="verify-full", sslrootcert=str(tmp_path / "no-such-ca.pem"))
    try:
        with pytest.raises(BackupError, match="pg_dump failed") as refused:
            create_generation(tmp_path / "backups")
    finally:
        options.clear()
        options.update(saved)
    assert "no-such-ca.pem" in str(refused.value) or "SSL" in str(refused.value)
