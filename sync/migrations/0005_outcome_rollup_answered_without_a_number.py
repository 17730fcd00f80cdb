"""The outcome rollup counts answered calls with no number to match (web calls), so the
outcome report's "answered" is every report's (sync.outcomes: THE ROLLUP).

The calls already mirrored are counted into it by `0008_numbers_left_out_of_resolution`, every column anew:
that count runs the current writers, which here would write columns added after this one."""
from django.db import migrations, models


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
    ]
