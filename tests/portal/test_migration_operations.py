"""`LabelsOnly` (portal/migration_operations.py) holds label changes only: it skips the
database, so a change it held that needed a column altered would be lost on every fresh
migrate. Django's own schema editor is asked, field by field, whether it would alter anything;
and the operations' resulting state is the one they give one by one."""
from __future__ import annotations

import pytest
from django.db import connection, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from portal.migration_operations import LabelsOnly


@pytest.fixture(scope="module")
def batches() -> list[tuple[tuple[str, str], LabelsOnly, ProjectState]]:
    """Each LabelsOnly operation, with the migration state just before its migration (read
    from the files: no database)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [(key, op, loader.project_state(key, at_end=False))
            for key, migration in sorted(loader.disk_migrations.items())
            for op in migration.operations if isinstance(op, LabelsOnly)]


def test_labels_only_operations_change_nothing_in_the_database(batches):
    assert len(batches) == 3, [key for key, *_ in batches]
    editor = connection.schema_editor()
    for key, batch, state in batches:
        assert state.apps  # rendered first, as `migrate` has it: the batch re-renders
        after = state.clone()
        batch.state_forwards(key[0], after)
        for operation in batch.operations:
            assert isinstance(operation, migrations.AlterField | migrations.AlterModelOptions), (
                key, operation)
            if isinstance(operation, migrations.AlterModelOptions):
                continue
            old, new = (s.apps.get_model(key[0], operation.model_name)._meta.get_field(
                operation.name) for s in (state, after))
            # The rendered models moved (each re-rendered once, at the end of the batch).
            assert new.verbose_name == operation.field.verbose_name, (key, operation.name)
            assert not editor._field_should_be_altered(old, new), (
                f"{key}: {operation.model_name}.{operation.name} changes the database: "
                "make it a plain AlterField")


def test_the_batch_gives_the_state_of_its_operations_one_by_one(batches):
    for key, batch, state in batches:
        batched, one_by_one = state.clone(), state.clone()
        for moved in (batched, one_by_one):  # the models only: nothing to re-render
            moved.__dict__.pop("apps", None)
        batch.state_forwards(key[0], batched)
        for operation in batch.operations:
            operation.state_forwards(key[0], one_by_one)
        assert batched.models == one_by_one.models, key
