"""`make test` rewrites the test modules' asserts once, ahead of its workers
(tests/support/assert_cache.py): what it writes is what pytest reads as its own, and it covers
every module the workers collect."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _pytest.assertion import rewrite

from tests.support import assert_cache


def test_what_is_written_ahead_is_read_by_pytest_and_explains_a_failure(tmp_path):
    module = tmp_path / "test_sample.py"
    module.write_text("def test_sums():\n    total = 1 + 1\n    assert total == 3\n")
    assert assert_cache.write(module) is True
    pyc = rewrite.get_cache_dir(module) / ("test_sample" + rewrite.PYC_TAIL)
    code = rewrite._read_pyc(module, pyc)
    assert code is not None
    assert assert_cache.write(module) is False  # up to date: left as it is
    namespace: dict = {}
    exec(code, namespace)
    with pytest.raises(AssertionError) as failure:
        namespace["test_sums"]()
    assert "assert 2 == 3" in str(failure.value)  # rewritten: the values are shown


def test_every_module_the_suite_collects_is_written_ahead(request):
    collected = {Path(item.fspath) for item in request.session.items}
    assert collected <= set(assert_cache.test_modules())
    assert Path(__file__).resolve().parent.parent / "conftest.py" in assert_cache.test_modules()


def test_only_the_tests_and_the_named_plugins_are_rewritten():
    """A plugin named by its entry point (`-p django`) marks a package of that name for
    rewriting: all of Django was rewritten in every worker (~6 s of CPU each)."""
    rewritten = {name for name, module in list(sys.modules.items())
                 if isinstance(getattr(module, "__loader__", None),
                               rewrite.AssertionRewritingHook)}
    assert {name for name in rewritten if not name.startswith(("tests.", "conftest"))} <= {
        "pytest_django.plugin", "xdist.plugin"}, sorted(rewritten)
