"""Organisations, their members, invitations, teams and environments (the vendors' accounts
we mirror), and the database cache table, as they stand after everything up to the Vapi
provider.

One migration instead of the chain it replaces (`replaces`): a deployment that applied
that whole chain is marked as having applied this one and runs nothing; a fresh database
runs only this. A deployment part-way through the old chain must first upgrade to the last
release that shipped it (docs/operations.md, "Upgrading").
"""
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import portal.models.tenants
from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations, models

# The development cache's table (portal/settings.py); created even when Redis is the cache,
# so a deployment that drops REDIS_URL later still works.
CACHE_TABLE = "switchboard_cache"


def create_cache_tables(apps, schema_editor):
    """`migrate` alone makes a working database: every database cache's table."""
    tables = {CACHE_TABLE} | {
        conf["LOCATION"] for conf in settings.CACHES.values()
        if conf["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    }
    command = CreateCacheTable()
    command.verbosity = 0
    for table in sorted(tables):
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ('portal', '0001_initial'),
        ('portal', '0002_h18_environment_price'),
        ('portal', '0003_cache_table_and_normal_base_urls'),
        ('portal', '0004_h20_invitations'),
        ('portal', '0005_h25b_environment_webhook'),
        ('portal', '0006_h26_verbose_names'),
        ('portal', '0006_h28a_call_retention'),
        ('portal', '0007_merge_0006_h26_verbose_names_0006_h28a_call_retention'),
        ('portal', '0008_merge_names'),
        ('portal', '0009_h38_callback_match_days'),
        ('portal', '0010_h40_teams'),
        ('portal', '0011_provider_vapi'),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Organization',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(max_length=64, unique=True, verbose_name='slug')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('timezone', models.CharField(default='UTC', max_length=64, validators=[portal.models.tenants.validate_timezone], verbose_name='timezone')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('call_retention_months', models.PositiveSmallIntegerField(choices=[(0, 'Keep forever'), (36, '36 months'), (24, '24 months'), (12, '12 months'), (6, '6 months')], default=0, help_text='Calls older than this are deleted for good, a whole month at a time (reports then show those days as not mirrored).', verbose_name='call retention')),
                ('call_retention_pending', models.BooleanField(default=False, editable=False, verbose_name='call retention pending')),
            ],
            options={
                'verbose_name': 'organization',
                'verbose_name_plural': 'organizations',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(default='api', max_length=100, verbose_name='name')),
                ('prefix', models.CharField(editable=False, max_length=16, verbose_name='prefix')),
                ('token_hash', models.CharField(editable=False, max_length=64, unique=True, verbose_name='token hash')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('expires_at', models.DateTimeField(blank=True, null=True, verbose_name='expires at')),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last used at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Invitation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(max_length=254, verbose_name='email')),
                ('role', models.CharField(choices=[('owner', 'Owner'), ('admin', 'Admin'), ('analyst', 'Analyst'), ('viewer', 'Viewer')], default='viewer', max_length=16, verbose_name='role')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('accepted_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted at')),
                ('accepted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='accepted by')),
                ('invited_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='invited by')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'invitation',
                'verbose_name_plural': 'invitations',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Environment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('provider', models.CharField(choices=[('talkover', 'Talkover'), ('origins', 'Origins AI'), ('vapi', 'Vapi')], default='talkover', max_length=16, verbose_name='provider')),
                ('base_url', models.URLField(blank=True, max_length=500, verbose_name='base URL')),
                ('token_ciphertext', models.TextField(default='', editable=False, verbose_name='token ciphertext')),
                ('token_hint', models.CharField(default='', editable=False, max_length=32, verbose_name='token hint')),
                ('provider_settings', models.JSONField(blank=True, default=dict, verbose_name='provider settings')),
                ('status', models.CharField(choices=[('active', 'Active'), ('paused', 'Paused'), ('auth_failed', 'Token rejected')], default='active', max_length=16, verbose_name='status')),
                ('status_reason', models.TextField(blank=True, default='', verbose_name='status reason')),
                ('sync_enabled', models.BooleanField(default=True, verbose_name='sync enabled')),
                ('sync_interval_minutes', models.PositiveIntegerField(default=15, verbose_name='sync interval minutes')),
                ('lookback_days', models.PositiveIntegerField(default=2, verbose_name='lookback days')),
                ('backfill_days', models.PositiveIntegerField(default=90, verbose_name='backfill days')),
                ('callback_match_days', models.PositiveSmallIntegerField(default=7, validators=[django.core.validators.MaxValueValidator(90)], verbose_name='callback match days')),
                ('requests_per_minute', models.PositiveIntegerField(default=90, verbose_name='requests per minute')),
                ('price_per_minute', models.DecimalField(blank=True, decimal_places=4, help_text="Optional. Origins AI: the price of one billed minute, for the Quality report's cost.", max_digits=10, null=True, validators=[django.core.validators.MinValueValidator(0)], verbose_name='price per billed minute')),
                ('last_synced_at', models.DateTimeField(blank=True, null=True, verbose_name='last synced at')),
                ('next_sync_at', models.DateTimeField(blank=True, null=True, verbose_name='next sync at')),
                ('data_version', models.PositiveBigIntegerField(default=0, verbose_name='data version')),
                ('calls_dropped_before', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='calls dropped before')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('webhook_key', models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='webhook key')),
                ('webhook_secret_ciphertext', models.TextField(blank=True, default='', editable=False, verbose_name='webhook secret ciphertext')),
                ('webhook_secret_hint', models.CharField(blank=True, default='', editable=False, max_length=32, verbose_name='webhook secret hint')),
                ('webhook_registration', models.JSONField(blank=True, default=dict, editable=False, verbose_name='webhook registration')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='environments', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'environment',
                'verbose_name_plural': 'environments',
                'ordering': ['organization__name', 'name'],
            },
        ),
        migrations.CreateModel(
            name='AuditLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(max_length=64, verbose_name='action')),
                ('target_type', models.CharField(blank=True, default='', max_length=64, verbose_name='target type')),
                ('target_id', models.CharField(blank=True, default='', max_length=64, verbose_name='target ID')),
                ('target_repr', models.CharField(blank=True, default='', max_length=200, verbose_name='target repr')),
                ('details', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='created at')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='audit', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'audit log',
                'verbose_name_plural': 'audit logs',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='Team',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('leads', models.ManyToManyField(blank=True, related_name='led_teams', to=settings.AUTH_USER_MODEL, verbose_name='leads')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='teams', to='portal.organization', verbose_name='organization')),
            ],
            options={
                'verbose_name': 'team',
                'verbose_name_plural': 'teams',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Membership',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('owner', 'Owner'), ('admin', 'Admin'), ('analyst', 'Analyst'), ('viewer', 'Viewer')], default='viewer', max_length=16, verbose_name='role')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='portal.organization', verbose_name='organization')),
                ('teams', models.ManyToManyField(blank=True, related_name='members', to='portal.team', verbose_name='teams')),
            ],
            options={
                'verbose_name': 'membership',
                'verbose_name_plural': 'memberships',
            },
        ),
        migrations.CreateModel(
            name='TeamAgent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('agent_external_id', models.CharField(max_length=255, verbose_name='agent ID')),
                ('environment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='team_agents', to='portal.environment', verbose_name='environment')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agents', to='portal.team', verbose_name='team')),
            ],
            options={
                'verbose_name': 'team agent',
                'verbose_name_plural': 'team agents',
            },
        ),
        migrations.AddIndex(
            model_name='environment',
            index=models.Index(fields=['sync_enabled', 'status', 'next_sync_at'], name='portal_envi_sync_en_2a04fe_idx'),
        ),
        migrations.AddConstraint(
            model_name='environment',
            constraint=models.UniqueConstraint(fields=('organization', 'name'), name='environment_name_unique'),
        ),
        migrations.AddConstraint(
            model_name='environment',
            constraint=models.UniqueConstraint(condition=models.Q(('webhook_key', ''), _negated=True), fields=('webhook_key',), name='environment_webhook_key_unique'),
        ),
        migrations.AddIndex(
            model_name='auditlog',
            index=models.Index(fields=['organization', '-created_at'], name='portal_audi_organiz_7c0818_idx'),
        ),
        migrations.AddConstraint(
            model_name='team',
            constraint=models.UniqueConstraint(fields=('organization', 'name'), name='team_unique_name'),
        ),
        migrations.AddConstraint(
            model_name='membership',
            constraint=models.UniqueConstraint(fields=('user', 'organization'), name='membership_unique'),
        ),
        migrations.AddConstraint(
            model_name='teamagent',
            constraint=models.UniqueConstraint(fields=('team', 'environment', 'agent_external_id'), name='teamagent_unique'),
        ),
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
    ]
