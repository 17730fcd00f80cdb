"""The garbage collector paused while Django starts (portal/startup_gc.py) is on again once the
apps are ready, whichever door started them: `manage.py`, gunicorn's `portal.wsgi`, or
`manage.main()` called twice in one process (the second starts nothing)."""
from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from portal import startup_gc

ROOT = Path(__file__).resolve().parent.parent.parent

COLLECTOR_STATE = "import gc; print('collector', gc.isenabled(), gc.get_freeze_count() > 0)"


def _last_line(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_resume_enables_the_collector_with_what_was_made_set_aside():
    gc.disable()
    try:
        startup_gc.resume()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_resume_leaves_a_running_collector_alone():
    frozen = gc.get_freeze_count()
    startup_gc.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_manage_py_command_runs_with_the_collector_on():
    assert _last_line("manage.py", "shell", "-c", COLLECTOR_STATE) == "collector True True"


def test_gunicorns_wsgi_module_leaves_the_collector_on():
    assert _last_line("-c", f"import portal.wsgi; {COLLECTOR_STATE}") == "collector True True"


def test_a_second_main_in_one_process_leaves_the_collector_on():
    twice = ("import io, contextlib, sys, manage\n"
             "for _ in range(2):\n"
             "    sys.argv = ['manage.py', 'help']\n"
             "    with contextlib.redirect_stdout(io.StringIO()):\n"
             "        manage.main()\n"
             f"{COLLECTOR_STATE}")
    assert _last_line("-c", twice) == "collector True True"
