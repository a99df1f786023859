from django.db import models

# The table of Django's database cache (settings.CACHES, the embedded setup without Redis), where
# the rate limits count login failures and API calls for every worker process at once.
CACHE_TABLE = "opiniondesk_cache"


class CacheEntry(models.Model):
    """One row of DatabaseCache, which reads and writes the table with its own SQL.

    A model rather than `manage.py createcachetable` so that `migrate` creates the table whatever
    the settings were when it ran, and so that the test runner's flush empties it (the counts of
    one test must not lock the next one out). The columns are the ones createcachetable makes.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = CACHE_TABLE
        verbose_name_plural = "cache entries"

    def __str__(self) -> str:
        return self.cache_key
