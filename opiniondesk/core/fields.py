"""Model fields shared by the domain apps."""

from django.db import models


class StoredGeneratedField(models.GeneratedField):
    """A generated column that is always stored (``db_persist=True``).

    Django 6.1's system check asks the PostgreSQL server for its version to learn whether
    *virtual* generated columns exist, so ``manage.py check --deploy`` fails on a build host
    that cannot reach the database. Stored columns are supported by every engine we run on
    (PostgreSQL ≥ 12, SQLite ≥ 3.31, both static features), so that question is moot here;
    the persistence check, which reads only static features, still runs.
    """

    def __init__(self, *args, **kwargs):
        kwargs["db_persist"] = True
        super().__init__(*args, **kwargs)

    def _check_supported(self, databases):
        return []

    def deconstruct(self):
        # Migrations see a plain GeneratedField: the schema is the same.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.GeneratedField", args, kwargs
