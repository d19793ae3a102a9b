from django.db import migrations

from liudong.stats.standard import install


class Migration(migrations.Migration):
    dependencies = [("stats", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
