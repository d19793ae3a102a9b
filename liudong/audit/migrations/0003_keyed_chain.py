"""Keyed chaining: every entry names the algorithm that chained it. Entries written before
this migration keep their plain SHA-256 (marked ``sha256``) and keep verifying as they
were; new entries are MAC'd with the key outside the database (``audit.keys``)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="algorithm",
            # Adding a column with a constant default is DDL, not an UPDATE: the
            # append-only trigger does not fire, and old rows get 'sha256' as written.
            field=models.CharField(default="sha256", max_length=16, verbose_name="chain algorithm"),
            preserve_default=False,
        ),
    ]
