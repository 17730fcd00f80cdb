"""The mirror: agents, calls, sync runs and streams, rollups, the callback funnel, quarantine
and privacy records; then what Django cannot declare, in SQL (docs/partitioning.md):

- the calls table partitioned by month and retention tier (`sync.partitions.convert`
  builds it from the table Django just created: no rows to copy on a fresh database);
- its search GIN index and the callback rule's two partial indexes;
- the callback funnel's statement triggers (docs/callback-funnel.md);
- no planner statistics on the calls' columns no query reads by.

One migration instead of the chain it replaces (`replaces`): a deployment that applied
that whole chain is marked as having applied this one and runs nothing.
"""
import django.db.models.deletion
import django.utils.timezone
import portal.bounds
from django.conf import settings
from django.db import migrations, models

from sync.partitions.ddl import TABLE, unsampled_sql


def partition_calls(apps, schema_editor) -> None:
    from sync.partitions.convert import to_partitioned

    with schema_editor.connection.cursor() as cursor:
        to_partitioned(cursor)


def unpartition_calls(apps, schema_editor) -> None:
    from sync.partitions.convert import to_plain

    with schema_editor.connection.cursor() as cursor:
        to_plain(cursor)


# The calls' indexes Django cannot declare (docs/partitioning.md, "Indexes"). Made on the
# partitioned table, so every month partition has them (`sync.partitions.ddl`).
# - call_env_search_gin: one tenant's search (`reports.call_search`, `sync.search_text`):
#   the environment, the trigrams of the joined search text (the expression
#   `call_search.SearchText` compiles to) and the transcript's words
#   (`reports.transcript_search.TSVECTOR_SQL`; 'simple': English and Portuguese alike).
# - call_outbound_dialled, call_inbound_caller: the callback rule's lookups
#   (`sync.callback_links`), outbound calls by the digits they dialled and inbound calls
#   by the digits that called, each with the start.
CALL_INDEXES = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX call_env_search_gin ON sync_call USING gin (environment_id,
    (UPPER(sid || ' ' || external_id || ' ' || to_number || ' ' || from_number)) gin_trgm_ops,
    (to_tsvector('simple'::regconfig, transcript)));
CREATE INDEX call_outbound_dialled ON sync_call
    (environment_id, (regexp_replace(to_number, '\D', '', 'g')), started_at)
    WHERE direction = 'outbound' AND NOT is_testing;
CREATE INDEX call_inbound_caller ON sync_call
    (environment_id, (regexp_replace(from_number, '\D', '', 'g')), started_at)
    WHERE direction = 'inbound';
"""
DROP_CALL_INDEXES = """
DROP INDEX IF EXISTS call_env_search_gin;
DROP INDEX IF EXISTS call_outbound_dialled;
DROP INDEX IF EXISTS call_inbound_caller;
"""

# The link side of the funnel's days, kept by PostgreSQL (sync.models.callbacks): after every
# statement that inserts, updates or deletes links, the days it touched — the callbacks'
# days and the source calls' days, before and after — are recounted from the links, in that
# statement's transaction. A day with nothing left to count keeps its row (the outbound
# side lives there too) with zeros; a day is only inserted when it has something to count,
# so deleting an environment (its links by one statement) never writes a row for it.
# Figures exactly as reports.queries.callback_funnel counts raw links: non-test links;
# matched = a source agent; seconds of those with a source call, ascending, packed as 4-byte
# integers (`int4send`; `sync.models.callbacks.unpack_seconds` reads them).
FUNNEL_TRIGGERS = r"""CREATE OR REPLACE FUNCTION sync_callback_funnel_days(envs bigint[], days date[])
RETURNS void LANGUAGE sql AS $fn$
WITH touched AS (
    SELECT DISTINCT e AS environment_id, d AS day
    FROM unnest(envs, days) AS t(e, d) WHERE d IS NOT NULL),
figures AS (
    SELECT t.environment_id, t.day, c.received, c.answered,
           coalesce(c.seconds, ''::bytea) AS seconds,
           coalesce(b.by_source, '{}'::jsonb) AS by_source, s.called_back
    FROM touched t
    CROSS JOIN LATERAL (
        SELECT count(*) AS received, count(*) FILTER (WHERE l.callback_answered) AS answered,
               string_agg(int4send(l.seconds_to_callback), ''::bytea
                          ORDER BY l.seconds_to_callback) FILTER (
                   WHERE l.source_external_id <> '' AND l.seconds_to_callback IS NOT NULL)
                   AS seconds
        FROM sync_callbacklink l
        WHERE l.environment_id = t.environment_id AND l.callback_day = t.day
          AND NOT l.is_testing) c
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(g.agent, g.n) AS by_source FROM (
            SELECT l.source_agent_external_id AS agent, count(*) AS n
            FROM sync_callbacklink l
            WHERE l.environment_id = t.environment_id AND l.callback_day = t.day
              AND NOT l.is_testing AND l.source_agent_external_id <> ''
            GROUP BY 1) g) b
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT l.source_external_id) AS called_back
        FROM sync_callbacklink l
        WHERE l.environment_id = t.environment_id AND l.source_day = t.day
          AND NOT l.is_testing AND l.source_answered = false) s),
kept AS (
    INSERT INTO sync_callbackfunnelday AS f (environment_id, day, outbound_unanswered,
        callbacks_received, callbacks_answered, callbacks_by_source, seconds_to_callback,
        called_back)
    SELECT environment_id, day, 0, received, answered, by_source, seconds, called_back
    FROM figures WHERE received > 0 OR called_back > 0
    ON CONFLICT (environment_id, day) DO UPDATE SET
        callbacks_received = EXCLUDED.callbacks_received,
        callbacks_answered = EXCLUDED.callbacks_answered,
        callbacks_by_source = EXCLUDED.callbacks_by_source,
        seconds_to_callback = EXCLUDED.seconds_to_callback,
        called_back = EXCLUDED.called_back
    RETURNING 1)
UPDATE sync_callbackfunnelday f SET callbacks_received = 0, callbacks_answered = 0,
    callbacks_by_source = '{}'::jsonb, seconds_to_callback = ''::bytea, called_back = 0
FROM figures z
WHERE z.received = 0 AND z.called_back = 0 AND f.environment_id = z.environment_id
  AND f.day = z.day AND (f.callbacks_received <> 0 OR f.called_back <> 0)
$fn$;

CREATE OR REPLACE FUNCTION sync_callbacklink_days() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM sync_callback_funnel_days(array_agg(environment_id), array_agg(day)) FROM (
            SELECT environment_id, callback_day AS day FROM new_links
            UNION SELECT environment_id, source_day FROM new_links) t;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM sync_callback_funnel_days(array_agg(environment_id), array_agg(day)) FROM (
            SELECT environment_id, callback_day AS day FROM old_links
            UNION SELECT environment_id, source_day FROM old_links) t;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER callbacklink_days_insert AFTER INSERT ON sync_callbacklink
    REFERENCING NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION sync_callbacklink_days();
CREATE TRIGGER callbacklink_days_update AFTER UPDATE ON sync_callbacklink
    REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
    FOR EACH STATEMENT EXECUTE FUNCTION sync_callbacklink_days();
CREATE TRIGGER callbacklink_days_delete AFTER DELETE ON sync_callbacklink
    REFERENCING OLD TABLE AS old_links
    FOR EACH STATEMENT EXECUTE FUNCTION sync_callbacklink_days();
"""
DROP_FUNNEL_TRIGGERS = """
DROP TRIGGER IF EXISTS callbacklink_days_insert ON sync_callbacklink;
DROP TRIGGER IF EXISTS callbacklink_days_update ON sync_callbacklink;
DROP TRIGGER IF EXISTS callbacklink_days_delete ON sync_callbacklink;
DROP FUNCTION IF EXISTS sync_callbacklink_days();
DROP FUNCTION IF EXISTS sync_callback_funnel_days(bigint[], date[]);
"""


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ('sync', '0001_initial'),
        ('sync', '0002_agent_callbackday_payload_hash'),
        ('sync', '0003_call_sort_indexes'),
        ('sync', '0004_agent_day_rollup'),
        ('sync', '0005_call_environment_no_single_index'),
        ('sync', '0006_h21_call_listing_indexes'),
        ('sync', '0007_h21_call_search'),
        ('sync', '0008_h18_call_quality_transcript'),
        ('sync', '0009_h15a_quarantine_wide_ids'),
        ('sync', '0010_h15b_quarantine_stored_out_of_range'),
        ('sync', '0011_h25a_call_day_ledger'),
        ('sync', '0011_h25b_webhook_trigger_transcript_index'),
        ('sync', '0011_h26a_call_external_id_search'),
        ('sync', '0012_merge_h25a_h25b_h26a'),
        ('sync', '0013_h26_verbose_names'),
        ('sync', '0013_h28a_partitioned_calls'),
        ('sync', '0013_h28b_syncrun_deferred'),
        ('sync', '0014_merge_20261124_0314'),
        ('sync', '0015_merge_0013_h26_verbose_names_0014_merge_20261124_0314'),
        ('sync', '0016_merge_names'),
        ('sync', '0017_call_search_text'),
        ('sync', '0018_h37b_bounded_timestamps'),
        ('sync', '0018_h38_callback_links'),
        ('sync', '0018_h39_privacy'),
        ('sync', '0019_h38b_callback_funnel_days'),
        ('sync', '0019_h44s_call_indexes'),
        ('sync', '0020_h38c_packed_seconds'),
        ('sync', '0021_h44_narrow_listing_indexes'),
        ('sync', '0022_h44_unsampled_columns'),
        ('sync', '0023_vendor_cost'),
    ]

    dependencies = [
        ('portal', '0001_tenants_and_environments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Agent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('external_id', models.CharField(max_length=255, verbose_name='external ID')),
                ('name', models.CharField(blank=True, default='', max_length=200, verbose_name='name')),
                ('label', models.CharField(blank=True, default='', max_length=200, verbose_name='label')),
                ('description', models.TextField(blank=True, default='', verbose_name='description')),
                ('language', models.CharField(blank=True, default='', max_length=32, verbose_name='language')),
                ('direction', models.CharField(blank=True, default='', max_length=32, verbose_name='direction')),
                ('current_status', models.CharField(blank=True, default='', max_length=32, verbose_name='current status')),
                ('is_sandbox', models.BooleanField(default=False, verbose_name='is sandbox')),
                ('is_callback', models.BooleanField(default=False, verbose_name='is callback')),
                ('source_agent_ids', models.JSONField(blank=True, default=list, verbose_name='source agent IDs')),
                ('missing', models.BooleanField(default=False, verbose_name='missing')),
                ('raw', models.JSONField(blank=True, default=dict, verbose_name='raw')),
                ('payload_hash', models.CharField(blank=True, default='', max_length=32, verbose_name='payload hash')),
                ('upstream_created_at', portal.bounds.BoundedDateTimeField(blank=True, null=True, verbose_name='upstream created at')),
                ('upstream_updated_at', portal.bounds.BoundedDateTimeField(blank=True, null=True, verbose_name='upstream updated at')),
                ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first seen at')),
                ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last seen at')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agents', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'agent',
                'verbose_name_plural': 'agents',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='AgentDayRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('agent_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='agent external ID')),
                ('direction', models.CharField(blank=True, default='', max_length=32, verbose_name='direction')),
                ('is_testing', models.BooleanField(default=False, verbose_name='is testing')),
                ('calls', models.PositiveIntegerField(default=0, verbose_name='calls')),
                ('status_initiated', models.PositiveIntegerField(default=0, verbose_name='calls: Initiated')),
                ('status_ringing', models.PositiveIntegerField(default=0, verbose_name='calls: Ringing')),
                ('status_answered', models.PositiveIntegerField(default=0, verbose_name='calls: Answered')),
                ('status_completed', models.PositiveIntegerField(default=0, verbose_name='calls: Completed')),
                ('status_failed', models.PositiveIntegerField(default=0, verbose_name='calls: Failed')),
                ('status_busy', models.PositiveIntegerField(default=0, verbose_name='calls: Busy')),
                ('status_no_answer', models.PositiveIntegerField(default=0, verbose_name='calls: No answer')),
                ('status_queued', models.PositiveIntegerField(default=0, verbose_name='calls: Queued')),
                ('inbound', models.PositiveIntegerField(default=0, verbose_name='inbound')),
                ('outbound', models.PositiveIntegerField(default=0, verbose_name='outbound')),
                ('talk_time', models.BigIntegerField(default=0, verbose_name='talk time')),
                ('talk_max', models.PositiveIntegerField(default=0, verbose_name='longest talk')),
                ('costed', models.PositiveIntegerField(default=0, verbose_name='calls with a vendor cost')),
                ('cost_units', models.BigIntegerField(default=0, verbose_name='vendor cost')),
                ('hist_00', models.PositiveIntegerField(default=0, verbose_name='duration bucket 00')),
                ('hist_01', models.PositiveIntegerField(default=0, verbose_name='duration bucket 01')),
                ('hist_02', models.PositiveIntegerField(default=0, verbose_name='duration bucket 02')),
                ('hist_03', models.PositiveIntegerField(default=0, verbose_name='duration bucket 03')),
                ('hist_04', models.PositiveIntegerField(default=0, verbose_name='duration bucket 04')),
                ('hist_05', models.PositiveIntegerField(default=0, verbose_name='duration bucket 05')),
                ('hist_06', models.PositiveIntegerField(default=0, verbose_name='duration bucket 06')),
                ('hist_07', models.PositiveIntegerField(default=0, verbose_name='duration bucket 07')),
                ('hist_08', models.PositiveIntegerField(default=0, verbose_name='duration bucket 08')),
                ('hist_09', models.PositiveIntegerField(default=0, verbose_name='duration bucket 09')),
                ('hist_10', models.PositiveIntegerField(default=0, verbose_name='duration bucket 10')),
                ('hist_11', models.PositiveIntegerField(default=0, verbose_name='duration bucket 11')),
                ('hist_12', models.PositiveIntegerField(default=0, verbose_name='duration bucket 12')),
                ('hist_13', models.PositiveIntegerField(default=0, verbose_name='duration bucket 13')),
                ('hist_14', models.PositiveIntegerField(default=0, verbose_name='duration bucket 14')),
                ('hist_15', models.PositiveIntegerField(default=0, verbose_name='duration bucket 15')),
                ('hist_16', models.PositiveIntegerField(default=0, verbose_name='duration bucket 16')),
                ('hist_17', models.PositiveIntegerField(default=0, verbose_name='duration bucket 17')),
                ('hour_00', models.PositiveIntegerField(default=0, verbose_name='calls at 00:00')),
                ('hour_01', models.PositiveIntegerField(default=0, verbose_name='calls at 01:00')),
                ('hour_02', models.PositiveIntegerField(default=0, verbose_name='calls at 02:00')),
                ('hour_03', models.PositiveIntegerField(default=0, verbose_name='calls at 03:00')),
                ('hour_04', models.PositiveIntegerField(default=0, verbose_name='calls at 04:00')),
                ('hour_05', models.PositiveIntegerField(default=0, verbose_name='calls at 05:00')),
                ('hour_06', models.PositiveIntegerField(default=0, verbose_name='calls at 06:00')),
                ('hour_07', models.PositiveIntegerField(default=0, verbose_name='calls at 07:00')),
                ('hour_08', models.PositiveIntegerField(default=0, verbose_name='calls at 08:00')),
                ('hour_09', models.PositiveIntegerField(default=0, verbose_name='calls at 09:00')),
                ('hour_10', models.PositiveIntegerField(default=0, verbose_name='calls at 10:00')),
                ('hour_11', models.PositiveIntegerField(default=0, verbose_name='calls at 11:00')),
                ('hour_12', models.PositiveIntegerField(default=0, verbose_name='calls at 12:00')),
                ('hour_13', models.PositiveIntegerField(default=0, verbose_name='calls at 13:00')),
                ('hour_14', models.PositiveIntegerField(default=0, verbose_name='calls at 14:00')),
                ('hour_15', models.PositiveIntegerField(default=0, verbose_name='calls at 15:00')),
                ('hour_16', models.PositiveIntegerField(default=0, verbose_name='calls at 16:00')),
                ('hour_17', models.PositiveIntegerField(default=0, verbose_name='calls at 17:00')),
                ('hour_18', models.PositiveIntegerField(default=0, verbose_name='calls at 18:00')),
                ('hour_19', models.PositiveIntegerField(default=0, verbose_name='calls at 19:00')),
                ('hour_20', models.PositiveIntegerField(default=0, verbose_name='calls at 20:00')),
                ('hour_21', models.PositiveIntegerField(default=0, verbose_name='calls at 21:00')),
                ('hour_22', models.PositiveIntegerField(default=0, verbose_name='calls at 22:00')),
                ('hour_23', models.PositiveIntegerField(default=0, verbose_name='calls at 23:00')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agent_day_rollups', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'agent day rollup',
                'verbose_name_plural': 'agent day rollups',
            },
        ),
        migrations.CreateModel(
            name='Call',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('external_id', models.CharField(max_length=255, verbose_name='external ID')),
                ('sid', models.CharField(blank=True, default='', max_length=255, verbose_name='SID')),
                ('agent_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='agent external ID')),
                ('to_number', models.CharField(blank=True, default='', max_length=32, verbose_name='to number')),
                ('to_formatted', models.CharField(blank=True, default='', max_length=40, verbose_name='to formatted')),
                ('from_number', models.CharField(blank=True, default='', max_length=32, verbose_name='from number')),
                ('from_formatted', models.CharField(blank=True, default='', max_length=40, verbose_name='from formatted')),
                ('direction', models.CharField(blank=True, choices=[('inbound', 'Inbound'), ('outbound', 'Outbound')], default='', max_length=32, verbose_name='direction')),
                ('status', models.CharField(blank=True, choices=[('initiated', 'Initiated'), ('ringing', 'Ringing'), ('answered', 'Answered'), ('completed', 'Completed'), ('failed', 'Failed'), ('busy', 'Busy'), ('no-answer', 'No answer'), ('queued', 'Queued')], default='', max_length=32, verbose_name='status')),
                ('provider_status', models.CharField(blank=True, default='', max_length=32, verbose_name='provider status')),
                ('duration', models.PositiveIntegerField(default=0, verbose_name='duration')),
                ('billed_duration', models.FloatField(blank=True, null=True, verbose_name='billed duration')),
                ('is_testing', models.BooleanField(default=False, verbose_name='is testing')),
                ('started_at', portal.bounds.BoundedDateTimeField(verbose_name='started at')),
                ('answered_at', portal.bounds.BoundedDateTimeField(blank=True, null=True, verbose_name='answered at')),
                ('ended_at', portal.bounds.BoundedDateTimeField(blank=True, null=True, verbose_name='ended at')),
                ('upstream_updated_at', portal.bounds.BoundedDateTimeField(blank=True, null=True, verbose_name='upstream updated at')),
                ('hangup_cause', models.CharField(blank=True, default='', max_length=64, verbose_name='hangup cause')),
                ('hangup_source', models.CharField(blank=True, default='', max_length=64, verbose_name='hangup source')),
                ('latency_ms', models.PositiveIntegerField(blank=True, null=True, verbose_name='latency ms')),
                ('sentiment', models.CharField(blank=True, db_default='', default='', max_length=32, verbose_name='sentiment')),
                ('insight', models.CharField(blank=True, db_default='', default='', max_length=64, verbose_name='insight')),
                ('transcript', models.TextField(blank=True, db_default='', default='', verbose_name='transcript')),
                ('vendor_cost', models.DecimalField(blank=True, decimal_places=10, max_digits=20, null=True, verbose_name='vendor cost')),
                ('vendor_cost_currency', models.CharField(blank=True, db_default='', default='', max_length=3, verbose_name='vendor cost currency')),
                ('cost_breakdown', models.JSONField(blank=True, null=True, verbose_name='cost breakdown')),
                ('raw', models.JSONField(default=dict, verbose_name='raw')),
                ('payload_hash', models.CharField(default='', max_length=32, verbose_name='payload hash')),
                ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first seen at')),
                ('last_changed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last changed at')),
                ('retention_months', models.PositiveSmallIntegerField(db_default=0, default=0, editable=False, verbose_name='retention tier')),
                ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='calls', to='sync.agent', verbose_name='agent')),
                ('environment', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='calls', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'call',
                'verbose_name_plural': 'calls',
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='CallbackDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('total_received', models.PositiveIntegerField(default=0, verbose_name='total received')),
                ('answered', models.PositiveIntegerField(default=0, verbose_name='answered')),
                ('unmatched', models.PositiveIntegerField(default=0, verbose_name='unmatched')),
                ('raw', models.JSONField(default=dict, verbose_name='raw')),
                ('payload_hash', models.CharField(blank=True, default='', max_length=32, verbose_name='payload hash')),
                ('fetched_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='fetched at')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='callback_days', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'callback day',
                'verbose_name_plural': 'callback days',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='CallbackFunnelDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('outbound_unanswered', models.PositiveIntegerField(default=0, verbose_name='outbound not answered')),
                ('callbacks_received', models.PositiveIntegerField(default=0, verbose_name='callbacks received')),
                ('callbacks_answered', models.PositiveIntegerField(default=0, verbose_name='callbacks answered')),
                ('callbacks_by_source', models.JSONField(default=dict, verbose_name='callbacks by source agent')),
                ('seconds_to_callback', models.BinaryField(default=b'', verbose_name='seconds to callback')),
                ('called_back', models.PositiveIntegerField(default=0, verbose_name='called back')),
                ('environment', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='callback_funnel_days', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'callback funnel day',
                'verbose_name_plural': 'callback funnel days',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='CallbackLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('callback_external_id', models.CharField(max_length=255, verbose_name='callback call ID')),
                ('callback_started_at', models.DateTimeField(verbose_name='callback started at')),
                ('callback_day', models.DateField(verbose_name='callback day')),
                ('callback_agent_external_id', models.CharField(max_length=255, verbose_name='callback agent ID')),
                ('callback_answered', models.BooleanField(default=False, verbose_name='callback answered')),
                ('is_testing', models.BooleanField(default=False, verbose_name='is testing')),
                ('source_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='source call ID')),
                ('source_agent_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='source agent ID')),
                ('source_started_at', models.DateTimeField(blank=True, null=True, verbose_name='source started at')),
                ('source_day', models.DateField(blank=True, null=True, verbose_name='source day')),
                ('source_answered', models.BooleanField(blank=True, null=True, verbose_name='source answered')),
                ('seconds_to_callback', models.PositiveIntegerField(blank=True, null=True, verbose_name='seconds to callback')),
                ('environment', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='callback_links', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'callback link',
                'verbose_name_plural': 'callback links',
                'ordering': ['-callback_started_at'],
            },
        ),
        migrations.CreateModel(
            name='CallbackSourceDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('source_agent_id', models.CharField(max_length=255, verbose_name='source agent ID')),
                ('name', models.CharField(blank=True, default='', max_length=200, verbose_name='name')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='count')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='callback_source_days', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'callback source day',
                'verbose_name_plural': 'callback source days',
                'ordering': ['-day', '-count'],
            },
        ),
        migrations.CreateModel(
            name='CallDayLedger',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('mirrored', models.PositiveIntegerField(default=0, verbose_name='mirrored')),
                ('rejected', models.PositiveIntegerField(default=0, verbose_name='rejected')),
                ('upstream', models.PositiveIntegerField(blank=True, null=True, verbose_name='upstream')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='checked at')),
                ('reconciled_at', models.DateTimeField(blank=True, null=True, verbose_name='reconciled at')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='call_day_ledger', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'call day ledger',
                'verbose_name_plural': 'call day ledger',
                'ordering': ['-day'],
            },
        ),
        migrations.CreateModel(
            name='CallerTombstone',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number_hash', models.CharField(max_length=64, verbose_name='number hash')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='caller_tombstones', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'caller tombstone',
                'verbose_name_plural': 'caller tombstones',
            },
        ),
        migrations.CreateModel(
            name='CallRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('agent_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='agent external ID')),
                ('direction', models.CharField(blank=True, default='', max_length=32, verbose_name='direction')),
                ('status', models.CharField(blank=True, default='', max_length=32, verbose_name='status')),
                ('is_testing', models.BooleanField(default=False, verbose_name='is testing')),
                ('count', models.PositiveIntegerField(default=0, verbose_name='count')),
                ('duration_sum', models.PositiveBigIntegerField(default=0, verbose_name='duration sum')),
                ('duration_max', models.PositiveIntegerField(default=0, verbose_name='duration max')),
                ('duration_hist', models.JSONField(default=list, verbose_name='duration hist')),
                ('costed', models.PositiveIntegerField(db_default=0, default=0, verbose_name='calls with a vendor cost')),
                ('cost_units', models.BigIntegerField(db_default=0, default=0, verbose_name='vendor cost')),
                ('hour_counts', models.JSONField(default=list, verbose_name='hour counts')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'call rollup',
                'verbose_name_plural': 'call rollups',
            },
        ),
        migrations.CreateModel(
            name='Erasure',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number_hash', models.CharField(db_index=True, max_length=64, verbose_name='number hash')),
                ('source', models.CharField(default='command', max_length=16, verbose_name='source')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='erased at')),
                ('environments', models.JSONField(blank=True, default=dict, verbose_name='calls per environment')),
                ('calls', models.PositiveIntegerField(default=0, verbose_name='calls')),
                ('other_rows', models.PositiveIntegerField(default=0, verbose_name='other rows')),
                ('cache_purged', models.BooleanField(default=False, verbose_name='cache purged')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='erased by')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='erasures', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'erasure',
                'verbose_name_plural': 'erasures',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PrivacyRetention',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('transcripts_days', models.PositiveIntegerField(blank=True, null=True, verbose_name='keep transcripts for (days)')),
                ('recordings_days', models.PositiveIntegerField(blank=True, null=True, verbose_name='keep recording links for (days)')),
                ('numbers_days', models.PositiveIntegerField(blank=True, null=True, verbose_name='keep phone numbers for (days)')),
                ('done', models.JSONField(blank=True, default=dict, editable=False, verbose_name='anonymised up to')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('organization', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='privacy_retention', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'privacy retention',
                'verbose_name_plural': 'privacy retention',
            },
        ),
        migrations.CreateModel(
            name='QualityDayRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('agent_external_id', models.CharField(blank=True, default='', max_length=255, verbose_name='agent external ID')),
                ('calls', models.PositiveIntegerField(default=0, verbose_name='calls')),
                ('latency_calls', models.PositiveIntegerField(default=0, verbose_name='latency calls')),
                ('latency_hist', models.JSONField(default=list, verbose_name='latency hist')),
                ('latency_max', models.PositiveIntegerField(default=0, verbose_name='latency max')),
                ('billed_calls', models.PositiveIntegerField(default=0, verbose_name='billed calls')),
                ('billed_seconds', models.FloatField(default=0.0, verbose_name='billed seconds')),
                ('hangup_sources', models.JSONField(default=dict, verbose_name='hangup sources')),
                ('hangup_causes', models.JSONField(default=dict, verbose_name='hangup causes')),
                ('sentiments', models.JSONField(default=dict, verbose_name='sentiments')),
                ('insights', models.JSONField(default=dict, verbose_name='insights')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='quality_rollups', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'quality day rollup',
                'verbose_name_plural': 'quality day rollups',
            },
        ),
        migrations.CreateModel(
            name='StreamState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stream', models.CharField(choices=[('agents', 'Agents'), ('calls', 'Calls'), ('callback_days', 'Callback stats')], max_length=16, verbose_name='stream')),
                ('cursor', models.JSONField(blank=True, default=dict, verbose_name='cursor')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stream_states', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'stream state',
                'verbose_name_plural': 'stream states',
            },
        ),
        migrations.CreateModel(
            name='SyncRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stream', models.CharField(choices=[('agents', 'Agents'), ('calls', 'Calls'), ('callback_days', 'Callback stats')], max_length=16, verbose_name='stream')),
                ('trigger', models.CharField(choices=[('manual', 'Manual'), ('schedule', 'Schedule'), ('backfill', 'Back-fill'), ('webhook', 'Webhook')], default='schedule', max_length=16, verbose_name='trigger')),
                ('status', models.CharField(choices=[('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('skipped', 'Skipped'), ('deferred', 'Deferred')], default='running', max_length=16, verbose_name='status')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='started at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('heartbeat_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='heartbeat at')),
                ('pages', models.PositiveIntegerField(default=0, verbose_name='pages')),
                ('requests', models.PositiveIntegerField(default=0, verbose_name='requests')),
                ('created', models.PositiveIntegerField(default=0, verbose_name='created')),
                ('updated', models.PositiveIntegerField(default=0, verbose_name='updated')),
                ('unchanged', models.PositiveIntegerField(default=0, verbose_name='unchanged')),
                ('rejected', models.PositiveIntegerField(default=0, verbose_name='rejected')),
                ('error', models.TextField(blank=True, default='', verbose_name='error')),
                ('details', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_runs', to='portal.environment', verbose_name='environment')),
            ],
            options={
                'verbose_name': 'sync run',
                'verbose_name_plural': 'sync runs',
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='RejectedRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('stream', models.CharField(choices=[('agents', 'Agents'), ('calls', 'Calls'), ('callback_days', 'Callback stats')], max_length=16, verbose_name='stream')),
                ('day', models.DateField(blank=True, null=True, verbose_name='day')),
                ('upstream_id', models.CharField(blank=True, default='', max_length=255, verbose_name='upstream id')),
                ('fingerprint', models.CharField(max_length=32, verbose_name='fingerprint')),
                ('payload', models.TextField(verbose_name='payload')),
                ('reason', models.CharField(max_length=500, verbose_name='reason')),
                ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='first seen')),
                ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='last seen')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rejected_records', to='portal.environment', verbose_name='environment')),
                ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='rejected_records', to='sync.syncrun', verbose_name='run')),
            ],
            options={
                'verbose_name': 'rejected record',
                'verbose_name_plural': 'rejected records',
                'ordering': ['-last_seen_at', '-id'],
            },
        ),
        migrations.AddConstraint(
            model_name='agent',
            constraint=models.UniqueConstraint(fields=('environment', 'external_id'), name='agent_natural_key'),
        ),
        migrations.AddIndex(
            model_name='agentdayrollup',
            index=models.Index(fields=['environment', 'day'], name='agentdayrollup_env_day'),
        ),
        migrations.AddConstraint(
            model_name='agentdayrollup',
            constraint=models.UniqueConstraint(fields=('environment', 'day', 'agent_external_id', 'direction', 'is_testing'), name='agentdayrollup_key'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(fields=['environment', '-started_at'], name='call_env_started'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(fields=['environment', 'agent_external_id', '-started_at'], name='call_env_agent_started'),
        ),
        migrations.AddConstraint(
            model_name='call',
            constraint=models.UniqueConstraint(fields=('environment', 'external_id'), name='call_natural_key'),
        ),
        migrations.AddConstraint(
            model_name='callbackday',
            constraint=models.UniqueConstraint(fields=('environment', 'day'), name='callbackday_natural_key'),
        ),
        migrations.AddConstraint(
            model_name='callbackfunnelday',
            constraint=models.UniqueConstraint(fields=('environment', 'day'), name='callbackfunnelday_key'),
        ),
        migrations.AddIndex(
            model_name='callbacklink',
            index=models.Index(fields=['environment', 'callback_day'], name='callbacklink_day'),
        ),
        migrations.AddIndex(
            model_name='callbacklink',
            index=models.Index(fields=['environment', 'source_external_id'], name='callbacklink_source'),
        ),
        migrations.AddIndex(
            model_name='callbacklink',
            index=models.Index(fields=['environment', 'source_day'], name='callbacklink_source_day'),
        ),
        migrations.AddConstraint(
            model_name='callbacklink',
            constraint=models.UniqueConstraint(fields=('environment', 'callback_external_id'), name='callbacklink_key'),
        ),
        migrations.AddConstraint(
            model_name='callbacksourceday',
            constraint=models.UniqueConstraint(fields=('environment', 'day', 'source_agent_id'), name='callbacksourceday_natural_key'),
        ),
        migrations.AddConstraint(
            model_name='calldayledger',
            constraint=models.UniqueConstraint(fields=('environment', 'day'), name='calldayledger_key'),
        ),
        migrations.AddConstraint(
            model_name='callertombstone',
            constraint=models.UniqueConstraint(fields=('organization', 'number_hash'), name='callertombstone_once'),
        ),
        migrations.AddIndex(
            model_name='callrollup',
            index=models.Index(fields=['environment', 'day'], name='callrollup_env_day'),
        ),
        migrations.AddConstraint(
            model_name='callrollup',
            constraint=models.UniqueConstraint(fields=('environment', 'day', 'agent_external_id', 'direction', 'status', 'is_testing'), name='callrollup_key'),
        ),
        migrations.AddIndex(
            model_name='qualitydayrollup',
            index=models.Index(fields=['environment', 'day'], name='qualityrollup_env_day'),
        ),
        migrations.AddConstraint(
            model_name='qualitydayrollup',
            constraint=models.UniqueConstraint(fields=('environment', 'day', 'agent_external_id'), name='qualitydayrollup_key'),
        ),
        migrations.AddConstraint(
            model_name='streamstate',
            constraint=models.UniqueConstraint(fields=('environment', 'stream'), name='streamstate_unique'),
        ),
        migrations.AddIndex(
            model_name='syncrun',
            index=models.Index(fields=['environment', 'stream', '-started_at'], name='syncrun_env_stream'),
        ),
        migrations.AddIndex(
            model_name='syncrun',
            index=models.Index(fields=['status', 'heartbeat_at'], name='syncrun_status'),
        ),
        migrations.AddIndex(
            model_name='rejectedrecord',
            index=models.Index(fields=['environment', 'stream', 'day'], name='rejectedrecord_env_day'),
        ),
        migrations.AddConstraint(
            model_name='rejectedrecord',
            constraint=models.UniqueConstraint(fields=('environment', 'stream', 'fingerprint'), name='rejectedrecord_key'),
        ),
        migrations.RunPython(partition_calls, unpartition_calls, elidable=False),
        migrations.RunSQL(CALL_INDEXES, DROP_CALL_INDEXES, elidable=False),
        migrations.RunSQL(FUNNEL_TRIGGERS, DROP_FUNNEL_TRIGGERS, elidable=False),
        # No planner statistics on the calls' columns no query reads by
        # (`sync.partitions.ddl.UNSAMPLED`): reaches every partition made above; later
        # leaves get the same from `sync.partitions.ddl`.
        migrations.RunSQL(unsampled_sql(TABLE), unsampled_sql(TABLE, target=-1),
                          elidable=False),
    ]
