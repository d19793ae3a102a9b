from django.db import migrations

from liudong.stats.standard import install
from liudong.stats.store import triggers


def recreate_triggers(apps, schema_editor):
    # The store's triggers now watch notices and a stay's `created` (the counts of the two
    # new indicators read them): dropped and made again from store.triggers.WATCHED.
    triggers.drop(schema_editor.connection)
    triggers.create(schema_editor.connection)


class Migration(migrations.Migration):
    """The standard set with registration_timely_rate and notices_answered_on_time_rate
    (issue 16 item 8: offices are assessed on registration and notices on time)."""

    dependencies = [
        ("stats", "0012_indicator_assessable"),
        ("certificates", "0003_signingkey_algorithm"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        migrations.RunPython(recreate_triggers, migrations.RunPython.noop),
    ]
