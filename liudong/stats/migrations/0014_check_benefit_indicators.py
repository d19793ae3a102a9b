from django.db import migrations

from liudong.stats.standard import install
from liudong.stats.store import triggers


def recreate_triggers(apps, schema_editor):
    # The store's triggers now watch benefits, families and programme amounts (the counts
    # of the benefit indicators read them): dropped and made again from
    # store.triggers.WATCHED.
    triggers.drop(schema_editor.connection)
    triggers.create(schema_editor.connection)


class Migration(migrations.Migration):
    """The standard set with beneficiaries_reward, beneficiaries_special and
    benefit_amount_yuan (issue 17 item 5): statistics of the benefits people applied for
    and receive, never assessment targets (install marks them not assessable)."""

    dependencies = [
        ("stats", "0013_registration_and_notice_rates"),
        ("programmes", "0002_national_programmes"),
    ]

    operations = [
        migrations.RunPython(install, migrations.RunPython.noop),
        migrations.RunPython(recreate_triggers, migrations.RunPython.noop),
    ]
