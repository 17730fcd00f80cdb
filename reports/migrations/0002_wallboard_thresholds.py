"""Each organisation's wallboard thresholds (reports.wallboard): when a tile turns amber or red.

First written as `0009_wallboard_thresholds` after the old chain; renamed after the squash
(`replaces` keeps a database that applied it under that name as it is).
"""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    replaces = [
        ('reports', '0009_wallboard_thresholds'),
    ]

    dependencies = [
        ('portal', '0001_tenants_and_environments'),
        ('reports', '0001_summaries_alerts_and_saved_views'),
    ]

    operations = [
        migrations.CreateModel(
            name='WallboardThresholds',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('answer_rate_amber', models.PositiveSmallIntegerField(default=80, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name='answer rate: amber below (%)')),
                ('answer_rate_red', models.PositiveSmallIntegerField(default=60, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name='answer rate: red below (%)')),
                ('waiting_amber', models.PositiveIntegerField(default=5, verbose_name='callbacks waiting: amber from')),
                ('waiting_red', models.PositiveIntegerField(default=15, verbose_name='callbacks waiting: red from')),
                ('oldest_wait_amber', models.PositiveIntegerField(default=30, verbose_name='oldest wait: amber from (minutes)')),
                ('oldest_wait_red', models.PositiveIntegerField(default=120, verbose_name='oldest wait: red from (minutes)')),
                ('min_calls', models.PositiveIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1)], verbose_name="fewest calls for an answer rate's colour")),
                ('organization', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='wallboard_thresholds', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'wallboard thresholds',
                'verbose_name_plural': 'wallboard thresholds',
            },
        ),
    ]
