"""Tables of the pre-counted statistics store (imported by liudong.stats.models so the
stats app owns them; migration stats 0010_store)."""

from __future__ import annotations

from django.db import models


class StoredCount(models.Model):
    """One count of the indicator vocabulary the store keeps (``key`` is its canonical
    JSON, store.keys.count_key). ``ready``: its cells are complete for every stored
    month; until then reads count it live."""

    key = models.TextField(unique=True)
    ready = models.BooleanField(default=False)
    # Not ready yet: the refresher fills its cells a few months a round, newest first;
    # every stored month from this one (YYYY-MM) on is filled ("": none yet).
    filled_from = models.CharField(max_length=7, blank=True, default="")

    def __str__(self) -> str:
        return self.key


class StoredMonth(models.Model):
    """A month whose cells exist for every ready count; ``counted_at``: when it was built."""

    month = models.CharField(max_length=7, unique=True)  # YYYY-MM
    counted_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.month


class StoreCell(models.Model):
    """A count's value for one month at one full region code (what the engine counts at
    child_length 15). A report adds up cells; a group holding no one has no cell."""

    count = models.ForeignKey(StoredCount, on_delete=models.CASCADE, db_index=False)
    month = models.CharField(max_length=7)
    key = models.CharField(max_length=15)
    value = models.FloatField()

    class Meta:
        constraints = [
            # Also the index reads use: month = ? AND count_id IN (...) AND key BETWEEN.
            models.UniqueConstraint(
                fields=["month", "count", "key"], name="stats_storecell_month_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month} {self.count_id} {self.key}: {self.value}"


class StoreMark(models.Model):
    """Cells of a region's subtree that may be stale from ``since`` on. Inserted by the
    database triggers of migration 0010 (store.triggers) on every table a count reads,
    deleted by the refresher once the subtree is recounted. ``county`` is the first six
    digits of the changed row's region code (shorter when the row is coded higher)."""

    county = models.CharField(max_length=15)
    since = models.DateField()

    class Meta:
        # SQLite's triggers look for a waiting mark that already covers the change.
        indexes = [models.Index(fields=["county", "since"], name="stats_storemark_county_since")]

    def __str__(self) -> str:
        return f"{self.county} from {self.since}"


class StoreState(models.Model):
    """One row: when the last refresh left no marks behind, and the lease that keeps a
    second refresher out on SQLite (PostgreSQL uses an advisory lock)."""

    refreshed_at = models.DateTimeField(null=True)
    # The first stored month when `stats rebuild --from` set one (else LIUDONG_STATS_FROM).
    first_month = models.CharField(max_length=7, blank=True)
    locked_until = models.DateTimeField(null=True)
    # SQLite: the highest mark id a refresher has claimed; marks above it wait.
    read_up_to = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"refreshed at {self.refreshed_at}"
