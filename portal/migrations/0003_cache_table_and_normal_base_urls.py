"""`migrate` alone makes a working database: the database cache table, and base URLs stored
in their normal form (see portal/upstream_url.py)."""
from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

# The development cache's table (portal/settings.py); created even when Redis is the cache,
# so a deployment that drops REDIS_URL later still works.
CACHE_TABLE = "switchboard_cache"


def create_cache_tables(apps, schema_editor):
    tables = {CACHE_TABLE} | {
        conf["LOCATION"] for conf in settings.CACHES.values()
        if conf["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    }
    command = CreateCacheTable()
    command.verbosity = 0
    for table in sorted(tables):
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


def normalise_base_urls(apps, schema_editor):
    from portal.upstream_url import normalise

    Environment = apps.get_model("portal", "Environment")
    for env in Environment.objects.exclude(base_url=""):
        try:
            fixed = normalise(env.provider, env.base_url)
        except Exception:  # noqa: BLE001 — an unreadable URL stays as it was, for a human
            continue
        if fixed != env.base_url:
            Environment.objects.filter(pk=env.pk).update(base_url=fixed)


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_h18_environment_price")]

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
        migrations.RunPython(normalise_base_urls, migrations.RunPython.noop),
    ]
