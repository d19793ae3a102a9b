from django.db import migrations, models

from liudong.stats.standard import mark_assessable


class Migration(migrations.Migration):
    """Issue 16 item 8: an indicator is assessable (a target and scheme points may use it)
    only when it measures the offices' own work; births, birth rate, sex ratio, the
    reproductive-health check rate and counts of people are statistics."""

    dependencies = [("stats", "0011_storedcount_filled_from")]

    operations = [
        migrations.AddField(
            model_name="indicator",
            name="assessable",
            field=models.BooleanField(
                default=False,
                help_text="Measures the offices' own work, so it may carry a target and points.",
                verbose_name="assessable",
            ),
        ),
        migrations.RunPython(mark_assessable, migrations.RunPython.noop),
    ]
