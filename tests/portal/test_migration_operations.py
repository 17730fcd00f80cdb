"""`LabelsOnly` (portal/migration_operations.py) holds label changes only: it skips the
database, so a change it held that needed a column altered would be lost on every fresh
migrate. Django's own schema editor is asked, field by field, whether it would alter anything;
and the operations' resulting state is the one they give one by one."""
from __future__ import annotations

from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader

from portal.migration_operations import LabelsOnly


def labels_only_migrations(loader: MigrationLoader) -> list[tuple[tuple[str, str], LabelsOnly]]:
    return [(key, op) for key, migration in sorted(loader.disk_migrations.items())
            for op in migration.operations if isinstance(op, LabelsOnly)]


def test_labels_only_operations_change_nothing_in_the_database(db):
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    found = labels_only_migrations(loader)
    assert len(found) == 3, [key for key, _ in found]
    editor = connection.schema_editor()
    for key, batch in found:
        state = loader.project_state(key, at_end=False)
        for operation in batch.operations:
            assert isinstance(operation, migrations.AlterField | migrations.AlterModelOptions), (
                key, operation)
            if isinstance(operation, migrations.AlterModelOptions):
                continue
            before = state.apps.get_model(key[0], operation.model_name)._meta.get_field(
                operation.name)
            after_state = state.clone()
            operation.state_forwards(key[0], after_state)
            after = after_state.apps.get_model(key[0], operation.model_name)._meta.get_field(
                operation.name)
            assert not editor._field_should_be_altered(before, after), (
                f"{key}: {operation.model_name}.{operation.name} changes the database: "
                "make it a plain AlterField")


def test_the_batch_gives_the_state_of_its_operations_one_by_one(db):
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    for key, batch in labels_only_migrations(loader):
        state = loader.project_state(key, at_end=False)
        batched, one_by_one = state.clone(), state.clone()
        batch.state_forwards(key[0], batched)
        for operation in batch.operations:
            operation.state_forwards(key[0], one_by_one)
        assert batched.models == one_by_one.models, key
        model = batch.operations[-1]
        name = getattr(model, "model_name", None) or model.name
        assert batched.apps.get_model(key[0], name)._meta.label_lower == \
            one_by_one.apps.get_model(key[0], name)._meta.label_lower
