"""No app function over 60 lines: a long function is a recipe whose steps have no
names. Counted from the `def` line to the last line of its body, its docstring left out;
the apps are portal/, sync/ and reports/ (not migrations, tests or bench)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("portal", "sync", "reports")
LIMIT = 60
# Named exceptions, each with why; a listed function that is no longer long fails the test,
# so the entry goes when the function is split.
NOT_YET = {
}


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return first.end_lineno - first.lineno + 1
    return 0


def long_functions(root: Path = ROOT, limit: int = LIMIT) -> list[str]:
    """`path:line name (N lines)` for every function of the apps longer than `limit`."""
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = node.lineno  # the def line: decorators are not the body
                    lines = node.end_lineno - start + 1 - _docstring_lines(node)
                    if lines > limit:
                        found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} "
                                     f"({lines} lines)")
    return found


def _key(found: str) -> str:
    """`path name` of a `long_functions` line (line number and length left out)."""
    where, name = found.split(" ")[:2]
    return f"{where.rsplit(':', 1)[0]} {name}"


def test_no_app_function_is_over_60_lines():
    found = long_functions()
    assert [f for f in found if _key(f) not in NOT_YET] == []
    split = set(NOT_YET) - {_key(f) for f in found}
    assert not split, f"no longer long, drop from NOT_YET: {sorted(split)}"


def test_the_checker_sees_a_long_function(tmp_path):
    (tmp_path / "sync").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "sync" / "long.py").write_text(
        f'def short():\n    """Doc\n    string."""\n    return 1\n\n\n'
        f'def long():\n    """A docstring does not count."""\n{body}\n')
    assert long_functions(tmp_path) == ["sync/long.py:7 long (61 lines)"]
    assert long_functions(tmp_path, limit=61) == []
