from django.db import migrations

from liudong.stats.standard import install


class Migration(migrations.Migration):
    """The standard set with data_accuracy_rate (spot checks, issue 6 part 6)."""

    dependencies = [("stats", "0007_spot_checks")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
