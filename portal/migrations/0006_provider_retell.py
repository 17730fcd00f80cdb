"""Retell AI becomes a provider choice (labels only: no data changes)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0005_environment_price_help_text_names_no_vendor"),
    ]

    operations = [
        migrations.AlterField(
            model_name="environment",
            name="provider",
            field=models.CharField(
                choices=[("talkover", "Talkover"), ("origins", "Origins AI"), ("vapi", "Vapi"),
                         ("retell", "Retell AI")],
                default="talkover", max_length=16, verbose_name="provider"),
        ),
    ]
