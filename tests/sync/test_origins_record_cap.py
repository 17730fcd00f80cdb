"""Origins records bounded one by one.

One record whose string inflates to hundreds of MiB (gzip) is rejected by the per-record
cap (`UPSTREAM_MAX_RECORD_CHARS`): quarantined with its reason, its id and day as far as its
head tells, and the records after it are written: within seconds, at flat memory (Python's
own allocations, tracemalloc: parsed whole, the string alone would be 256 MiB). The reader
itself is checked against `json.loads` on random arrays read in random pieces, with records
on both sides of the cap and every character a scanner could trip on.
"""
from __future__ import annotations

import json
import random
import socket
import time
import tracemalloc

import pytest
from ijson import IncompleteJSONError

from sync.engine import sync_environment
from sync.models import Call, RejectedRecord, SyncRun
from sync.models.core import RunStatus
from sync.providers.origins.array_reader import Oversized, records
from tests.support.hostile import GZIP_HEADER, MIB_OF_SPACES, Hostile, deflated, head, hostile
from tests.support.origins import env_for

pytestmark = pytest.mark.django_db

INFLATED_MIB = 256
BIG_ID = "00000000-0000-4000-8000-00000000b16b"


def record(n: int, **fields) -> dict:
    return {"call_id": f"00000000-0000-4000-8000-{n:012d}", "call_agent_id": 7,
            "call_status": "ANSWERED", "initiation_time": "2026-03-01T12:00:00Z",
            "answer_time": "2026-03-01T12:00:05Z", "end_time": "2026-03-01T12:01:05Z",
            "call_direction": "inbound", "call_duration": 60, **fields}


def bomb_in_the_middle(server: Hostile, path: str, conn: socket.socket) -> None:
    """[record 1, a record whose `notes` inflate to 256 MiB, record 2] as gzip (~260 kB)."""
    opening = (b"[" + json.dumps(record(1)).encode() + b',{"call_id": "' + BIG_ID.encode()
               + b'", "initiation_time": "2026-03-02T12:00:00Z", "notes": "')
    closing = b'"},' + json.dumps(record(2)).encode() + b"]"
    conn.sendall(head(Content_Encoding="gzip") + GZIP_HEADER + deflated(opening)
                 + MIB_OF_SPACES * INFLATED_MIB + deflated(closing))


def test_a_record_inflating_to_256_mib_is_quarantined_and_the_stream_goes_on(org_a, settings):
    settings.UPSTREAM_MAX_RECORD_CHARS = 64 * 1024
    with hostile(bomb_in_the_middle) as server:
        env = env_for(org_a)
        env.base_url = f"http://127.0.0.1:{server.port}"
        env.save()
        tracemalloc.start()
        began = time.monotonic()
        try:
            outcome = sync_environment(env, streams=["calls"])
        finally:
            took = time.monotonic() - began
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    run = SyncRun.objects.get(pk=outcome.runs[0].pk)
    assert run.status == RunStatus.SUCCEEDED and run.rejected == 1, run.error
    assert sorted(Call.objects.filter(environment=env).values_list("external_id", flat=True)
                  ) == [record(1)["call_id"], record(2)["call_id"]], "the stream went on"
    rejected = RejectedRecord.objects.get(environment=env)
    assert "record too large (over 65,536 characters" in rejected.reason
    assert rejected.upstream_id == BIG_ID and str(rejected.day) == "2026-03-02"
    assert len(rejected.payload) < 4000, "only its head is kept"
    assert took < 20, f"the run took {took:.1f} s"
    assert peak < 32, f"{peak:.0f} MiB allocated for a {INFLATED_MIB} MiB record"


class Pieces:
    """`data` handed out in random pieces (as a body arrives), counting skipped bytes."""

    def __init__(self, data: bytes, rng: random.Random) -> None:
        self.data, self.rng, self.at, self.skipped = data, rng, 0, 0

    def read(self, size: int = -1, *, skipped: bool = False) -> bytes:
        piece = self.data[self.at:self.at + self.rng.randint(1, min(size, 300))]
        self.at += len(piece)
        self.skipped += len(piece) if skipped else 0
        return piece


TRICKY = ['a"b', "back\\slash", "]}", "{[", "\\\"}]", "ação ☎ 𝄞", "\u2028", ",", ""]


def value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice(TRICKY) + "x" * rng.choice([0, 5, 200])
    if kind == 1:
        return rng.choice([0, -7, 3.25, 1e21, True, False, None])
    if kind == 2:
        return "".join(rng.choice(TRICKY) for _ in range(rng.randrange(40)))
    if kind == 3:
        return rng.randrange(10**6)
    if kind == 4:
        return [value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(TRICKY) + str(i): value(rng, depth + 1) for i in range(rng.randrange(5))}


@pytest.mark.parametrize("seed", range(12))
def test_the_reader_agrees_with_json_loads_and_skips_what_is_over_the_cap(seed):
    rng = random.Random(seed)
    items = [value(rng) for _ in range(60)]
    ascii_only = rng.random() < 0.5
    cap = rng.choice([40, 200, 5000])
    body = Pieces(json.dumps(items, ensure_ascii=ascii_only).encode(), rng)
    got = list(records(body.read, cap))
    assert len(got) == len(items)
    for item, read in zip(items, got, strict=True):
        if len(json.dumps(item, ensure_ascii=ascii_only)) > cap:
            assert isinstance(read, Oversized), item
            assert read.reason.startswith(f"record too large (over {cap:,}")
        else:
            assert read == item
    assert body.at == len(body.data), "read to the end"


@pytest.mark.parametrize("body", [b"[1, 2", b'[{"a": "b}]', b"[1 2]", b'[{"a": NaN}]',
                                  b'{"a": 1}', b'["\xff"]'])
def test_what_is_not_a_json_array_raises_as_a_broken_body(body):
    with pytest.raises(IncompleteJSONError):
        list(records(Pieces(body, random.Random(0)).read, 1000))
