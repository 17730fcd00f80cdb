"""The funnel's time to callback counts only callbacks of outbound calls that were NOT
answered (the wait of someone we failed to reach): a callback after an answered call is a
new contact, not a wait. The link table's triggers keep each day's seconds
(`CallbackFunnelDay.seconds_to_callback`, migration 0001): their function now filters on
`source_answered = false`, and every day holding links is recounted with it (reversed: the
old filter, recounted again)."""
from importlib import import_module

from django.db import migrations

_INITIAL = import_module("sync.migrations.0001_mirror_and_partitioned_calls")
# The days' function as 0001 wrote it (the trigger function after it is unchanged).
OLD_FUNCTION = _INITIAL.FUNNEL_TRIGGERS.split(
    "CREATE OR REPLACE FUNCTION sync_callbacklink_days()")[0]
_MATCHED = "WHERE l.source_external_id <> '' AND l.seconds_to_callback IS NOT NULL)"
assert _MATCHED in OLD_FUNCTION
NEW_FUNCTION = OLD_FUNCTION.replace(
    _MATCHED, _MATCHED[:-1] + "\n                     AND l.source_answered = false)")
RECOUNT = """
SELECT sync_callback_funnel_days(array_agg(environment_id), array_agg(callback_day))
FROM (SELECT DISTINCT environment_id, callback_day FROM sync_callbacklink) t;"""


class Migration(migrations.Migration):

    dependencies = [
        ('sync', '0002_outcomes_next_contact_and_agent_prices'),
    ]

    operations = [
        migrations.RunSQL(NEW_FUNCTION + RECOUNT, OLD_FUNCTION + RECOUNT, elidable=False),
    ]
