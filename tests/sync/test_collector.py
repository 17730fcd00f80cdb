"""The garbage collector spaced out while a sync runs (sync/collector.py): set aside and back
as it was, however runs of the process overlap."""
from __future__ import annotations

import gc
import threading

from sync import collector


def test_a_run_spaces_collections_and_leaves_the_collector_as_it_found_it():
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with collector.spaced():
        assert gc.get_freeze_count() > 0, "what the process held is set aside"
        assert gc.get_threshold()[0] == max(collector.YOUNG, before[0])
        with collector.spaced():  # a second run of the process (a thread of its own)
            pass
        assert gc.get_threshold()[0] == max(collector.YOUNG, before[0])
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_overlapping_runs_on_threads_restore_it_once_the_last_one_ends():
    before = gc.get_threshold()
    inside, release = threading.Barrier(3), threading.Event()

    def run() -> None:
        with collector.spaced():
            inside.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    assert gc.get_freeze_count() > 0
    release.set()
    for thread in threads:
        thread.join(5)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_failing_run_restores_it_too():
    before = gc.get_threshold()
    try:
        with collector.spaced():
            raise RuntimeError("the run failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
