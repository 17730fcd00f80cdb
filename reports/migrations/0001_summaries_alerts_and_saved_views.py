"""Report summaries, alerts (with their readings and anomaly rules) and saved views, as they
stand after the team filters.

One migration instead of the chain it replaces (`replaces`): a deployment that applied
that whole chain is marked as having applied this one and runs nothing.
"""
import django.db.models.deletion
import portal.bounds
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ('reports', '0001_initial'),
        ('reports', '0002_h19_alerts'),
        ('reports', '0003_h17b_saved_views'),
        ('reports', '0004_h24b_storable_snooze'),
        ('reports', '0004_h26b_alert_readings'),
        ('reports', '0005_merge_h24b_h26b'),
        ('reports', '0006_h26_verbose_names'),
        ('reports', '0007_h38_callback_funnel_metrics'),
        ('reports', '0007_h41_anomaly_alerts'),
        ('reports', '0007_h42_notify_acknowledged'),
        ('reports', '0008_h40_teams'),
    ]

    dependencies = [
        ('portal', '0001_tenants_and_environments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AlertRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('agent_id', models.CharField(blank=True, default='', max_length=64, verbose_name='agent ID')),
                ('each_team', models.BooleanField(default=False, verbose_name='each team')),
                ('metric', models.CharField(choices=[('calls', 'Calls'), ('answer_rate', 'Answer rate (%)'), ('failed_rate', 'Failed rate (%)'), ('no_answer_rate', 'No-answer rate (%)'), ('avg_talk_time', 'Average talk time (s)'), ('callbacks_unmatched_rate', 'Unmatched callbacks (%)'), ('callbacks_answered_rate', 'Answered callbacks (%)'), ('callback_rate', 'Callback rate (%)'), ('median_time_to_callback', 'Median time to callback (min)'), ('minutes_since_sync', 'Minutes since the last sync'), ('token_rejected', 'Environments whose token was rejected')], max_length=32, verbose_name='metric')),
                ('window', models.CharField(choices=[('1h', 'Last hour'), ('24h', 'Last 24 hours'), ('7d', 'Last 7 complete days'), ('day', 'Last complete day')], default='day', max_length=8, verbose_name='window')),
                ('condition', models.CharField(choices=[('above', 'above'), ('below', 'below'), ('change_above_pct', 'rises by more than (%)'), ('change_below_pct', 'falls by more than (%)'), ('anomaly', 'is unusual for the hour of the week')], max_length=20, verbose_name='condition')),
                ('threshold', models.FloatField(verbose_name='threshold')),
                ('compare_to', models.CharField(blank=True, choices=[('previous', 'the window before'), ('week_ago', 'the same window a week earlier')], default='', max_length=10, verbose_name='compare to')),
                ('sensitivity', models.CharField(choices=[('low', 'Low: only striking departures'), ('medium', 'Medium'), ('high', 'High: smaller departures too')], default='medium', max_length=8, verbose_name='sensitivity')),
                ('anomaly_direction', models.CharField(choices=[('below', 'lower than usual'), ('above', 'higher than usual')], default='below', max_length=8, verbose_name='anomaly direction')),
                ('min_calls', models.PositiveIntegerField(default=20, help_text='Rates are not judged over fewer calls (or callbacks).', verbose_name='min calls')),
                ('severity', models.CharField(choices=[('info', 'Info'), ('warning', 'Warning'), ('critical', 'Critical')], default='warning', max_length=10, verbose_name='severity')),
                ('emails', models.JSONField(blank=True, default=list, verbose_name='emails')),
                ('webhook_url', models.URLField(blank=True, default='', max_length=500, verbose_name='webhook URL')),
                ('webhook_format', models.CharField(choices=[('json', 'JSON, signed (X-Switchboard-Signature)'), ('slack', 'Slack-compatible')], default='json', max_length=8, verbose_name='webhook format')),
                ('webhook_secret_ciphertext', models.TextField(blank=True, default='', editable=False, verbose_name='webhook secret ciphertext')),
                ('language', models.CharField(choices=[('en', 'English'), ('pt-br', 'Português (Brasil)')], default='en', help_text='Language of the emails and webhook text.', max_length=8, verbose_name='language')),
                ('enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('state', models.CharField(choices=[('ok', 'OK'), ('firing', 'Firing')], default='ok', editable=False, max_length=8, verbose_name='state')),
                ('state_seq', models.PositiveIntegerField(default=0, editable=False, verbose_name='state seq')),
                ('state_changed_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='state changed at')),
                ('last_evaluated_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last evaluated at')),
                ('last_value', models.FloatField(blank=True, editable=False, null=True, verbose_name='last value')),
                ('last_note', models.CharField(blank=True, default='', editable=False, max_length=300, verbose_name='last note')),
                ('last_reading', models.JSONField(blank=True, default=dict, editable=False, verbose_name='last reading')),
                ('snoozed_until', portal.bounds.StorableDateTimeField(blank=True, null=True, verbose_name='snoozed until')),
                ('acknowledged_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='acknowledged at')),
                ('acknowledged_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='acknowledged by')),
                ('created_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('environments', models.ManyToManyField(related_name='+', to='portal.environment', verbose_name='environments')),
                ('members', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='members')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='portal.organization', verbose_name='organization')),
                ('parent', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='team_rules', to='reports.alertrule', verbose_name='parent rule')),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alert_rules', to='portal.team', verbose_name='team')),
            ],
            options={
                'verbose_name': 'alert rule',
                'verbose_name_plural': 'alert rules',
                'ordering': ['organization__name', 'name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='AlertEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveIntegerField(verbose_name='seq')),
                ('state', models.CharField(choices=[('firing', 'Firing'), ('resolved', 'Resolved')], max_length=10, verbose_name='state')),
                ('metric', models.CharField(choices=[('calls', 'Calls'), ('answer_rate', 'Answer rate (%)'), ('failed_rate', 'Failed rate (%)'), ('no_answer_rate', 'No-answer rate (%)'), ('avg_talk_time', 'Average talk time (s)'), ('callbacks_unmatched_rate', 'Unmatched callbacks (%)'), ('callbacks_answered_rate', 'Answered callbacks (%)'), ('callback_rate', 'Callback rate (%)'), ('median_time_to_callback', 'Median time to callback (min)'), ('minutes_since_sync', 'Minutes since the last sync'), ('token_rejected', 'Environments whose token was rejected')], max_length=32, verbose_name='metric')),
                ('value', models.FloatField(blank=True, null=True, verbose_name='value')),
                ('compare_value', models.FloatField(blank=True, null=True, verbose_name='compare value')),
                ('threshold', models.FloatField(verbose_name='threshold')),
                ('calls', models.PositiveIntegerField(blank=True, null=True, verbose_name='calls')),
                ('window_start', models.DateTimeField(blank=True, null=True, verbose_name='window start')),
                ('window_end', models.DateTimeField(blank=True, null=True, verbose_name='window end')),
                ('coverage', models.CharField(blank=True, default='', max_length=300, verbose_name='coverage')),
                ('expected', models.FloatField(blank=True, null=True, verbose_name='expected')),
                ('low', models.FloatField(blank=True, null=True, verbose_name='low')),
                ('high', models.FloatField(blank=True, null=True, verbose_name='high')),
                ('detail', models.JSONField(blank=True, default=dict, verbose_name='detail')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('notify_status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('retrying', 'Will retry'), ('failed', 'Failed'), ('snoozed', 'Not sent: snoozed'), ('acked', 'Not sent: acknowledged'), ('none', 'No channel')], default='pending', max_length=10, verbose_name='notify status')),
                ('recipients', models.JSONField(blank=True, default=dict, verbose_name='recipients')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('notified_at', models.DateTimeField(blank=True, null=True, verbose_name='notified at')),
                ('error', models.TextField(blank=True, default='', verbose_name='error')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portal.organization', verbose_name='organization')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='reports.alertrule', verbose_name='rule')),
            ],
            options={
                'verbose_name': 'alert event',
                'verbose_name_plural': 'alert events',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='BannerDismissal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state_seq', models.PositiveIntegerField(verbose_name='state seq')),
                ('dismissed_at', models.DateTimeField(auto_now=True, verbose_name='dismissed at')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reports.alertrule', verbose_name='rule')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'banner dismissal',
                'verbose_name_plural': 'banner dismissals',
            },
        ),
        migrations.CreateModel(
            name='ReportSubscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('name', models.CharField(default='Weekly summary', max_length=200, verbose_name='name')),
                ('all_environments', models.BooleanField(default=True, help_text='Include every environment, also ones added later.', verbose_name='all environments')),
                ('addresses', models.JSONField(blank=True, default=list, verbose_name='addresses')),
                ('cadence', models.CharField(choices=[('daily', 'Daily'), ('weekly', 'Weekly'), ('monthly', 'Monthly')], default='weekly', max_length=8, verbose_name='cadence')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], default=0, help_text='Weekly summaries only.', verbose_name='weekday')),
                ('hour', models.PositiveSmallIntegerField(default=8, help_text="Local hour (0–23) in the subscription's timezone.", verbose_name='hour')),
                ('timezone', models.CharField(blank=True, default='', max_length=64, verbose_name='timezone')),
                ('language', models.CharField(choices=[('en', 'English'), ('pt-br', 'Português (Brasil)')], default='en', max_length=8, verbose_name='language')),
                ('attach_csv', models.BooleanField(default=True, verbose_name='attach CSV')),
                ('skip_if_no_calls', models.BooleanField(default=False, verbose_name='skip if no calls')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('next_run_at', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='next run at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('environments', models.ManyToManyField(blank=True, related_name='+', to='portal.environment', verbose_name='environments')),
                ('members', models.ManyToManyField(blank=True, related_name='report_subscriptions', to=settings.AUTH_USER_MODEL, verbose_name='members')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='report_subscriptions', to='portal.organization', verbose_name='organization')),
                ('team', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='portal.team', verbose_name='team')),
            ],
            options={
                'verbose_name': 'report subscription',
                'verbose_name_plural': 'report subscriptions',
                'ordering': ['organization__name', 'name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='ReportDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_start', models.DateField(verbose_name='period start')),
                ('period_end', models.DateField(help_text='Last day included.', verbose_name='period end')),
                ('scheduled_for', models.DateTimeField(blank=True, null=True, verbose_name='scheduled for')),
                ('is_test', models.BooleanField(default=False, verbose_name='is test')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('retrying', 'Will retry'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='pending', max_length=16, verbose_name='status')),
                ('recipients', models.JSONField(blank=True, default=dict, verbose_name='recipients')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt at')),
                ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('error', models.TextField(blank=True, default='', verbose_name='error')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='reports.reportsubscription', verbose_name='subscription')),
            ],
            options={
                'verbose_name': 'report delivery',
                'verbose_name_plural': 'report deliveries',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='SavedView',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('page', models.CharField(choices=[('dashboard', 'Dashboard'), ('calls', 'Calls'), ('agents', 'Agents'), ('callbacks', 'Callbacks')], max_length=16, verbose_name='page')),
                ('query', models.TextField(blank=True, default='', verbose_name='filters')),
                ('shared', models.BooleanField(default=False, verbose_name='shared with the organisation')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_views', to='portal.organization', verbose_name='organization')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_views', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'saved view',
                'verbose_name_plural': 'saved views',
                'ordering': ['name', 'pk'],
            },
        ),
        migrations.AddIndex(
            model_name='alertrule',
            index=models.Index(fields=['enabled', 'organization'], name='alertrule_enabled'),
        ),
        migrations.AddConstraint(
            model_name='alertrule',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('condition__in', ['change_above_pct', 'change_below_pct']), _negated=True), models.Q(('compare_to', ''), _negated=True), _connector='OR'), name='alertrule_change_compares'),
        ),
        migrations.AddIndex(
            model_name='alertevent',
            index=models.Index(fields=['organization', '-created_at'], name='alertevent_org_created'),
        ),
        migrations.AddIndex(
            model_name='alertevent',
            index=models.Index(fields=['notify_status'], name='alertevent_notify'),
        ),
        migrations.AddConstraint(
            model_name='alertevent',
            constraint=models.UniqueConstraint(fields=('rule', 'seq'), name='alertevent_once_per_change'),
        ),
        migrations.AddConstraint(
            model_name='bannerdismissal',
            constraint=models.UniqueConstraint(fields=('rule', 'user'), name='alertbanner_once_per_member'),
        ),
        migrations.AddIndex(
            model_name='reportsubscription',
            index=models.Index(fields=['active', 'next_run_at'], name='reports_rep_active_bc18f3_idx'),
        ),
        migrations.AddConstraint(
            model_name='reportsubscription',
            constraint=models.CheckConstraint(condition=models.Q(('hour__gte', 0), ('hour__lte', 23)), name='subscription_hour'),
        ),
        migrations.AddConstraint(
            model_name='reportsubscription',
            constraint=models.CheckConstraint(condition=models.Q(('weekday__gte', 0), ('weekday__lte', 6)), name='subscription_weekday'),
        ),
        migrations.AddIndex(
            model_name='reportdelivery',
            index=models.Index(fields=['status', 'next_attempt_at'], name='reports_rep_status_0673cd_idx'),
        ),
        migrations.AddConstraint(
            model_name='reportdelivery',
            constraint=models.UniqueConstraint(condition=models.Q(('is_test', False)), fields=('subscription', 'period_start'), name='delivery_once_per_period'),
        ),
        migrations.AddIndex(
            model_name='savedview',
            index=models.Index(fields=['organization', 'owner'], name='reports_sav_organiz_10f511_idx'),
        ),
    ]
