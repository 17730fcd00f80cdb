"""Migration operations of our own: `LabelsOnly`, label changes moved in one step.

Why: after every `AlterField` Django re-renders the model and each model related to it. The
h26 migrations changed only labels (verbose names, help texts, model options) — 311 fields
and 21 models in three migrations — and that re-rendering made a fresh `migrate` spend about
15 s of CPU (every `make demo` on a new machine, every test database, every deployment's first
run) while the database had nothing to do: a label is no column.
"""
from __future__ import annotations

from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState


class LabelsOnly(Operation):
    """`operations` (AlterField / AlterModelOptions that change labels only) applied to the
    migration state as Django applies them, each model re-rendered once at the end instead of
    after each operation; nothing is sent to the database. Only for changes with no database
    effect: `tests/portal/test_migration_operations.py` asks Django's schema editor whether
    any of them would touch the database."""

    reduces_to_sql = False
    reversible = True

    def __init__(self, operations: list[migrations.AlterField | migrations.AlterModelOptions]):
        self.operations = operations

    def deconstruct(self):
        return self.__class__.__qualname__, [self.operations], {}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pending: dict[tuple[str, str], bool] = {}

        def later(app: str, model: str, delay: bool = False) -> None:
            # Delayed (only direct relations re-rendered) only if every change allowed it.
            pending[app, model] = pending.get((app, model), True) and delay

        reload = state.reload_model
        state.reload_model = later  # instance attribute: the class's method is untouched
        try:
            for operation in self.operations:
                operation.state_forwards(app_label, state)
        finally:
            del state.reload_model
        for (app, model), delay in pending.items():
            reload(app, model, delay=delay)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        """Labels are not in the database."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        """Labels are not in the database."""

    def describe(self) -> str:
        return f"Change the labels of {len(self.operations)} fields and models"
