"""The funnel's kept seconds to callback as packed 4-byte integers, not a JSON array (issue 38,
point 5): at 1M calls a 90-day funnel spent ~20 ms having PostgreSQL write ~41k numbers as
JSON text and Python parse them back; the same numbers as bytes cost ~2 ms
(`sync.models.callbacks.unpack_seconds` reads them).

The triggers of 0019_h38b are dropped with their function, the column is replaced, and the
same triggers are made again over a function that packs the seconds (`int4send`, ascending);
then every day of the links already stored is recounted, as 0019_h38b did."""
from importlib import import_module

from django.db import migrations, models

H38B = import_module("sync.migrations.0019_h38b_callback_funnel_days")

# 0019_h38b's function and triggers with the seconds packed: only the seconds' lines differ.
PACKED = H38B.REFRESH.replace(
    "coalesce(c.seconds, '[]'::jsonb) AS seconds",
    "coalesce(c.seconds, ''::bytea) AS seconds",
).replace(
    "jsonb_agg(l.seconds_to_callback ORDER BY l.seconds_to_callback) FILTER (",
    "string_agg(int4send(l.seconds_to_callback), ''::bytea\n"
    "                          ORDER BY l.seconds_to_callback) FILTER (",
).replace(
    "seconds_to_callback = '[]'::jsonb, called_back = 0",
    "seconds_to_callback = ''::bytea, called_back = 0",
)
assert PACKED.count("bytea") == 3, "0019_h38b's function changed: update these replacements"


def _run(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0019_h44s_call_indexes'),
    ]

    operations = [
        migrations.RunPython(_run(H38B.DROP), _run(H38B.REFRESH), elidable=False),
        migrations.RemoveField(
            model_name='callbackfunnelday',
            name='seconds_to_callback',
        ),
        migrations.AddField(
            model_name='callbackfunnelday',
            name='seconds_to_callback',
            field=models.BinaryField(default=b'', verbose_name='seconds to callback'),
        ),
        migrations.RunPython(_run(PACKED), _run(H38B.DROP), elidable=False),
    ]
