"""The recipe's file list (docs/extending.md, "Every place a provider touches") held to what
adding Retell AI touched: every file outside its package that names Retell matches a row of
the table, and every row that is not "only if" is matched by one. A provider added by the
recipe alone keeps both true; a step the recipe forgets, or a row nobody needs, fails here."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "retell"
PACKAGE = f"sync/providers/{EXAMPLE}/"
TEXT = {".py", ".html", ".txt", ".md", ".po", ".toml", ".cfg", ".ini", ".yml", ".yaml",
        ".js", ".css", ".json", ""}
NAMES_IT = re.compile(rf"\b{EXAMPLE}", re.I)
# This test and the recipe itself name the example on purpose, and so does the boundary
# check's own test data (vendor words it must catch).
ABOUT_THE_RECIPE = {"docs/extending.md", "tests/sync/test_provider_recipe.py"}
BOUNDARY_CHECK = "tests/lint/"


def recipe_rows() -> list[tuple[str, bool]]:
    """(path pattern, required) of each row of the table, `<name>` made the example."""
    text = (ROOT / "docs/extending.md").read_text(encoding="utf-8")
    table = text.split("**Every place a provider touches**", 1)[1].split("\n\n")[1]
    rows = []
    for line in table.splitlines()[2:]:
        where, what = line.split("|")[1:3]
        path = where.strip().strip("`").replace("<name>", EXAMPLE)
        rows.append((path, not what.strip().startswith("only if")))
    return rows


def files_naming_the_example() -> set[str]:
    # The project's files as git sees them (committed or new, never what .gitignore leaves out:
    # the virtualenv, caches, a test run's leftovers).
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    found = set()
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if not path.is_file() or path.suffix not in TEXT:
            continue
        if name.startswith((PACKAGE, BOUNDARY_CHECK)) or name in ABOUT_THE_RECIPE:
            continue
        if NAMES_IT.search(path.read_text(encoding="utf-8", errors="ignore")):
            found.add(name)
    return found


def _matches(name: str, pattern: str) -> bool:
    return name.startswith(pattern) if pattern.endswith("/") else name == pattern


def test_the_recipe_table_is_read():
    rows = recipe_rows()
    assert (PACKAGE, True) in rows and ("sync/migrations/", False) in rows
    assert len(rows) >= 8


def test_every_file_naming_the_example_outside_its_package_is_a_row_of_the_recipe():
    rows = recipe_rows()
    stray = sorted(f for f in files_naming_the_example()
                   if not any(_matches(f, pattern) for pattern, _ in rows))
    assert not stray, f"touched by {EXAMPLE} but not in docs/extending.md's table: {stray}"


def test_every_required_row_of_the_recipe_was_needed_by_the_example():
    touched = files_naming_the_example() | {PACKAGE}
    unused = [pattern for pattern, required in recipe_rows() if required
              and not any(_matches(f, pattern) for f in touched)]
    assert not unused, f"rows {EXAMPLE} did not need (mark them 'only if'): {unused}"
