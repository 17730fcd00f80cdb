"""The sync's fast JSON is the standard library's, byte for byte and value for value: the
digests stored in the mirror stay valid, and pages parse to the same records."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.fast_json import canonical_text, loads

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


def reference(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(), JSON, max_size=6))
def test_canonical_text_is_the_standard_librarys(value):
    assert canonical_text(value) == reference(value)
    assert loads(reference(value).encode()) == json.loads(reference(value))


def test_the_cases_orjson_would_write_or_read_otherwise():
    call = {"id": "c-1", "duration": 12, "agent": {"name": "Vendas São Paulo"}, "x": "\x7f"}
    outside = [{"name": "Atendimento São Paulo €"}, {"emoji": "ok 😀 é"}, {"k": "x\\xé"},
               {"k": "ü\\u00fc"}, {"sep": "\u2028日本"}, {"é": "a\x7fé"}, {"Ü": ["ß", "tab\t"]}]
    for value in (call, {"f": 1e-05}, {"big": 2**70}, [1.5e-7], {"n": None}, *outside):
        assert canonical_text(value) == reference(value)
    assert loads(b'{"a":123456789012345678901234567890}') == {"a": 123456789012345678901234567890}
    assert loads(b'{"a":NaN}')["a"] != 0
    # A run of digits in a string is no number: orjson's value stands, floats and all.
    sid = b'{"sid":"CA1234567890123456789012abcdef","d":[1.5,{"n":12345678901234567890123}]}'
    assert loads(sid) == json.loads(sid) and type(loads(sid)["d"][1]["n"]) is int
    assert loads(b'["1234567890123456789012", 2.5]') == ["1234567890123456789012", 2.5]
    assert loads(b'12345678901234567890123') == 12345678901234567890123
