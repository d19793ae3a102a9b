from django.db import migrations

from liudong.stats.standard import install


class Migration(migrations.Migration):
    """The standard set with assistance_answered_on_time_rate (issue 7 part 4)."""

    dependencies = [("stats", "0008_data_accuracy_rate")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
