"""The JSON reader gives the same value or the same message with orjson as without it
(``visioncompare.kernel.json_text``: orjson first, ``json`` for whatever orjson refuses
or might read otherwise)."""

from __future__ import annotations

import random

import pytest

import tests.test_results_file as fuzz
from visioncompare.kernel import json_text
from visioncompare.kernel.json_text import JSONTextError, parse_json

EDGES = [
    "18446744073709551616", "18446744073709551615", "-9223372036854775809",
    "-9223372036854775808", "9223372036854775808", "1234567890123456789.5",
    "1234567890123456789E2", "0.00123456789012345678901", "1E400", "1e-320", "-0",
    '"file_12345678901234567890.jpg"',
]  # fmt: skip


def _outcome(text: str | bytes) -> tuple[str, str]:
    try:
        return "read", repr(parse_json(text))  # repr: 1 and 1.0 differ
    except JSONTextError as exc:
        return "refused", str(exc)


def _both(text: str | bytes, monkeypatch) -> tuple[tuple, tuple]:
    assert json_text.orjson is not None  # a requirement: the fast path is the one tested
    fast = _outcome(text)
    with monkeypatch.context() as m:
        m.setattr(json_text, "orjson", None)
        plain = _outcome(text)
    return fast, plain


@pytest.mark.parametrize("token", EDGES)
def test_numbers_orjson_holds_otherwise_are_read_by_json(token, monkeypatch):
    for text in (f"[{token}]", f'{{"image_id": {token}, "bbox": [1.5, {token}]}}'):
        fast, plain = _both(text.encode(), monkeypatch)
        assert fast == plain, text


def test_long_integers_are_found_and_float_digits_are_not():
    assert json_text._long_integer(b"[1, -1234567890123456789]")
    assert json_text._long_integer(b"1234567890123456789")
    assert not json_text._long_integer(b"[0.0012345678901234567, 123456789012345678]")
    assert not json_text._long_integer(b"[1234567890123456789.0, 1234567890123456789e1]")


def test_fuzzed_files_read_the_same_with_and_without_orjson(monkeypatch):
    rng = random.Random(20240526)
    predictions = [dict(fuzz.ENTRY), {**fuzz.ENTRY, "image_id": 1, "category_id": 1}]
    annotations = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                         "bbox": [10.5, 10, 20, 30], "area": 600}],
        "categories": [{"id": 1, "name": "cat"}],
    }  # fmt: skip
    monkeypatch.setattr(fuzz, "RAW", [*fuzz.RAW, *EDGES])
    by_orjson = 0
    for case in range(3000):
        base = predictions if case % 2 else annotations
        data = fuzz._damaged(rng, fuzz._dumps(fuzz._document(rng, base)))
        fast, plain = _both(data, monkeypatch)
        assert fast == plain, (case, data[:300])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        fast, plain = _both(text, monkeypatch)
        assert fast == plain, (case, text[:300])
        by_orjson += json_text._orjson_value(data.removeprefix(b"\xef\xbb\xbf")) is not (
            json_text._REFUSED
        )
    assert by_orjson > 1000  # the fast path is what most cases took
