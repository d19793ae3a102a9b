from django.db import migrations

from liudong.stats.standard import install
from liudong.stats.store import triggers


def recreate_triggers(apps, schema_editor):
    # The store's triggers now watch residents' correction requests (the count of
    # corrections_answered_on_time_rate reads them): dropped and made again from
    # store.triggers.WATCHED.
    triggers.drop(schema_editor.connection)
    triggers.create(schema_editor.connection)


class Migration(migrations.Migration):
    """The standard set with corrections_answered_on_time_rate (issue 19 item 4): the share
    of residents' correction requests the office holding the file answered within the
    deadline, the office's own work (assessable)."""

    dependencies = [
        ("stats", "0014_check_benefit_indicators"),
        ("people", "0011_corrections_request"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        migrations.RunPython(recreate_triggers, migrations.RunPython.noop),
    ]
