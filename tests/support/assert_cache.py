"""Writes pytest's rewritten test modules once, before `make test`'s workers start.

pytest rewrites each test module's asserts (so a failure explains itself) and keeps the result
as its own `.pyc` beside the module. On a fresh clone, or wherever PYTHONDONTWRITEBYTECODE is
set, no worker finds one: the xdist workers collect together and each rewrites all of them,
~13 s of CPU per worker on a two-core machine (`pytest --collect-only`: 19 s without the
files, 6 s with them). Written here once, split over the cores, the workers read them; a
module changed since is rewritten by pytest as before. The `compileall` beside it in the
Makefile writes the sources' bytecode under PYTHONDONTWRITEBYTECODE for the same reason.

    python -m tests.support.assert_cache

It calls pytest's own rewriter (functions private to pytest, which `pyproject.toml` pins below
9.2); where they are missing, it writes nothing and the workers rewrite as before.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace

TESTS = Path(__file__).resolve().parent.parent


def test_modules(root: Path = TESTS) -> list[Path]:
    """The modules pytest rewrites when it collects the suite: test files and conftests."""
    return sorted({*root.rglob("test_*.py"), *root.rglob("conftest.py")})


def write(path: Path) -> bool:
    """Writes `path`'s rewritten bytecode where pytest looks for it; False when it was there
    already, up to date."""
    from _pytest.assertion import rewrite

    cache = rewrite.get_cache_dir(path)
    pyc = cache / (path.name[:-3] + rewrite.PYC_TAIL)
    if rewrite._read_pyc(path, pyc) is not None:
        return False
    if not rewrite.try_makedirs(cache):
        return False
    source_stat, code = rewrite._rewrite_test(path, None)  # no config: no assertion-pass hook
    return rewrite._write_pyc(SimpleNamespace(trace=lambda message: None), code, source_stat,
                              pyc)


def main() -> None:
    try:
        from _pytest.assertion import rewrite

        for name in ("get_cache_dir", "PYC_TAIL", "_read_pyc", "try_makedirs", "_rewrite_test",
                     "_write_pyc"):
            getattr(rewrite, name)
    except (ImportError, AttributeError):
        return  # another pytest: its workers rewrite the modules themselves
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(write, test_modules(), chunksize=8))


if __name__ == "__main__":
    main()
