"""One engine: PostgreSQL everywhere, so every figure has one implementation.

The demo, the commands and `make test` run on the embedded PostgreSQL (portal/embedded_db.py)
when DATABASE_URL is unset, and production on its own: code that asks which database it runs
on, or a second implementation of a figure for another engine, would again be code production
never runs. This test fails if any returns to the application's code, or a test is skipped for
the engine."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("portal", "sync", "reports")
# What asking for, or writing for, another engine looks like.
FORBIDDEN = re.compile(
    r"connection\.vendor|connections\[[^\]]*\]\.vendor|\bas_sqlite\b|sqlite3|json_extract"
    r"|def (?!to_python\()\w+_python\w*\(")  # to_python: a form field's, not a twin


def _sources(*folders: str, skip: tuple[str, ...] = ()) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))
            if not any(part in skip for part in p.parts)]


def test_no_engine_branch_nor_python_twin_in_the_application():
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
             for p in _sources(*APPS, skip=("migrations",))
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if FORBIDDEN.search(line) and "FORBIDDEN" not in line]
    assert found == [], "\n".join(found)


def test_no_test_is_skipped_for_the_engine():
    # A skip whose condition or reason (its parenthesised arguments) names the engine.
    skip = re.compile(r"skip\w*\((?:[^()]|\([^()]*\))*?(vendor|sqlite|postgres)", re.I)
    found = [str(p.relative_to(ROOT)) for p in _sources("tests")
             if p.name != "test_one_engine.py" and skip.search(p.read_text())]
    assert found == [], found
