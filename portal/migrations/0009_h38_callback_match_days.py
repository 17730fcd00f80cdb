"""Issue 38: each environment's callback match window (days), read by sync.callback_links."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0008_merge_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='environment',
            name='callback_match_days',
            field=models.PositiveSmallIntegerField(default=7, validators=[django.core.validators.MaxValueValidator(90)], verbose_name='callback match days'),
        ),
    ]
