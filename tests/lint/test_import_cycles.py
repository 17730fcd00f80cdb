"""The import-cycle contract `make lint` runs (tests/lint/import_cycles.py) finds the cycles
that hide: through an import inside a function, under TYPE_CHECKING, and through a package
`__init__`; a submodule importing its own package is none."""
from __future__ import annotations

import sys

import grimp

from tests.lint.import_cycles import module_cycles

FILES = {
    "reports/__init__.py": "",
    "reports/a.py": "def f():\n    from reports.b import g\n",
    "reports/b.py": "from reports import a\n",
    "reports/q/__init__.py": "from reports.q.calls import x\n",
    "reports/q/calls.py": "from reports.q.common import y\nfrom reports.f import z\n",
    "reports/q/common.py": "",
    "reports/f.py": "from reports.q.common import y\n",
    "reports/migrations/__init__.py": "",
    "reports/migrations/0001.py": "from reports import a\n",
    "sync/__init__.py": "",
    "sync/core.py": "from sync.server import S\n",
    "sync/server.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from .core import C\n",
    "sync/own.py": "import sync\n",
}


def test_the_contract_finds_hidden_cycles(tmp_path, monkeypatch):
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in {"reports", "sync"}]:
        monkeypatch.delitem(sys.modules, name)
    graph = grimp.build_graph("reports", "sync", cache_dir=None)
    assert module_cycles(graph) == [
        ["reports.a", "reports.b"],
        ["reports.f", "reports.q", "reports.q.calls"],
        ["sync.core", "sync.server"],
    ]
