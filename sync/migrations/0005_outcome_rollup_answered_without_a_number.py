"""The outcome rollup counts answered calls with no number to match (web calls), so the
outcome report's "answered" is every report's (sync.outcomes: THE ROLLUP); then every call
already mirrored is counted into the rollup, every column anew."""
from django.db import migrations, models


def count_mirrored(apps, schema_editor) -> None:
    """Count every call already mirrored into the outcome rollup."""
    from sync.outcomes import rebuild_outcome_days
    Environment = apps.get_model("portal", "Environment")
    rebuild_outcome_days(list(Environment.objects.values_list("pk", flat=True)),
                         schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0004_outcome_day_rollup'),
    ]

    operations = [
        migrations.AddField(
            model_name='outcomedayrollup',
            name='answered_no_number',
            field=models.PositiveIntegerField(default=0, verbose_name='answered without a number'),
        ),
        migrations.RunPython(count_mirrored, migrations.RunPython.noop),
    ]
