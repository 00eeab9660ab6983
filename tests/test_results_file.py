"""Predictions files and COCO annotations files: every way one can be wrong is a message
that names the file and what is wrong (a typed error), never a crash; a seeded fuzz over
JSON structure (depth, types, sizes) finds nothing else escaping."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_dataset
from visioncompare.datasets.coco import load_coco
from visioncompare.datasets.types import DatasetError
from visioncompare.evaluation.results_file import ResultsFileError, load_coco_results
from visioncompare.kernel.json_text import MAX_DEPTH, nesting_depth, parse_json

ENTRY = {"image_id": 397133, "category_id": 18, "bbox": [1, 2, 3, 4], "score": 0.5}


@pytest.fixture(scope="module")
def dataset():
    """Three images (ids 1, 2, 397133) and two categories (ids 1 and 18)."""
    from dataclasses import replace

    ds = make_dataset([([], [])] * 3, class_names=("person", "dog"), name="mini")
    samples = tuple(
        replace(s, image_id=i) for s, i in zip(ds.samples, (1, 2, 397133))
    )
    return replace(ds, samples=samples, category_ids=(1, 18))


def _refused(path: Path, dataset, *patterns: str) -> str:
    with pytest.raises(ResultsFileError) as caught:
        load_coco_results(str(path), dataset)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message  # names the file
    for pattern in patterns:
        assert pattern in message, (pattern, message)
    return message


def test_nested_brackets_are_a_message_naming_the_depth(tmp_path, dataset):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)  # 200 KB
    _refused(path, dataset, "nested 100000 levels deep", f"at most {MAX_DEPTH}")
    path.write_text(json.dumps([{**ENTRY, "extra": [[[[[]]]]]}]))
    load_coco_results(str(path), dataset)  # a few levels: read
    path.write_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    _refused(path, dataset, f"nested {MAX_DEPTH + 1} levels deep")


def test_latin1_is_named_as_an_encoding_problem(tmp_path, dataset):
    path = tmp_path / "latin1.json"
    entry = {**ENTRY, "category_name": "café"}
    del entry["category_id"]
    path.write_bytes(json.dumps([entry], ensure_ascii=False).encode("latin-1"))
    message = _refused(path, dataset, "not UTF-8 text", "0xe9", "line 1")
    assert "codec" not in message


def test_a_5001_digit_number_is_named_as_too_long(tmp_path, dataset):
    path = tmp_path / "long.json"
    path.write_text('[{"image_id": ' + "1" * 5001 + "}]")
    message = _refused(path, dataset, "a number too long to read")
    assert "set_int_max_str_digits" not in message


def test_a_string_id_is_named_as_a_type_problem(tmp_path, dataset):
    path = tmp_path / "string_id.json"
    path.write_text(json.dumps([{**ENTRY, "image_id": "397133"}]))
    message = _refused(
        path, dataset, "entry 0: field 'image_id' should be an integer id",
        "the string '397133'", "in quotes",
    )  # fmt: skip
    assert "is not in" not in message
    path.write_text(json.dumps([{**ENTRY, "category_id": "18"}]))
    _refused(path, dataset, "field 'category_id' should be an integer id")
    path.write_text(json.dumps([{**ENTRY, "image_id": True}]))
    _refused(path, dataset, "field 'image_id' should be an integer id, got true")
    path.write_text(json.dumps([{**ENTRY, "image_id": 397133.5}]))
    _refused(path, dataset, "field 'image_id' should be an integer id, got 397133.5")


def test_strings_where_numbers_belong_are_refused_as_pycocotools_fails(
    tmp_path, dataset
):
    """pycocotools ranks by ``-score`` and computes ``w * h``: strings fail there."""
    path = tmp_path / "strings.json"
    for change, patterns in [
        ({"score": "0.5"}, ("'score' should be a number", "the string '0.5'")),
        ({"score": None}, ("'score' should be a number, got null",)),
        ({"score": False}, ("'score' should be a number, got false",)),
        ({"bbox": ["1", "2", "3", "4"]}, ("'bbox' should be four numbers", "'1'")),
        ({"bbox": [1, 2, None, 4]}, ("'bbox' should be four numbers, got null",)),
        ({"bbox": [1, 2, 3, 10**400]}, ("'bbox' needs finite numbers",)),
        ({"bbox": [1, 2, 3, 1e39]}, ("numbers too large",)),
        ({"score": 10**400}, ("'score' is too large",)),
        ({"category_id": None, "category_name": 5}, ("should be an integer id",)),
    ]:
        path.write_text(json.dumps([{**ENTRY, **change}]))
        _refused(path, dataset, "entry 0: ", *patterns)
    entry = {k: v for k, v in ENTRY.items() if k != "category_id"}
    path.write_text(json.dumps([{**entry, "category_name": 5}]))
    _refused(path, dataset, "field 'category_name' should be a class name, got 5")
    # Checked even where the category is left out: pycocotools reads every box.
    path.write_text(json.dumps([{**ENTRY, "category_id": 99, "bbox": ["a"] * 4}]))
    _refused(path, dataset, "'bbox' should be four numbers")


def test_what_pycocotools_takes_is_taken(tmp_path, dataset):
    """A float id without a fraction (pycocotools' ``397133.0 == 397133``), any extra
    field, and a negative-width box."""
    path = tmp_path / "ok.json"
    path.write_text(json.dumps([
        {**ENTRY, "image_id": 397133.0, "category_id": 18.0, "segmentation": []},
        {**ENTRY, "bbox": [5, 5, -2, 3], "score": 1},
    ]))  # fmt: skip
    detections, skipped = load_coco_results(str(path), dataset)
    assert len(detections[397133]) == 2 and skipped == {}
    assert detections[397133].labels == ["dog", "dog"]


def test_the_command_line_names_a_bad_predictions_file(tmp_path, capsys, monkeypatch):
    """``--predictions`` with nested brackets or a string id: exit 2 and one line."""
    from visioncompare.services.cli import main as cli

    monkeypatch.setenv("VISIONCOMPARE_RUNS", str(tmp_path / "runs"))
    path = tmp_path / "results.json"
    for data, expected in [
        ("[" * 100_000 + "]" * 100_000, "nested 100000 levels deep"),
        (json.dumps([{**ENTRY, "image_id": "397133"}]), "should be an integer id"),
    ]:
        path.write_text(data)
        code = cli(["evaluate", "--dataset", "coco-val2017-first32",
                    "--predictions", str(path)])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"error: {path}: ") and expected in err
        assert "Traceback" not in err


def test_unpaired_surrogate_escapes_are_refused():
    with pytest.raises(ValueError, match="unpaired"):
        parse_json(r'["\ud800"]')
    assert parse_json(r'["\ud83d\ude00", "\\ud800"]') == ["\U0001f600", "\\ud800"]


def test_nesting_depth_ignores_brackets_in_strings():
    for text, depth in [
        ("[]", 1), ('[1, [2, {"a": ["]]]]"]}]]', 4), ('"[[["', 0),
        (r'["\\", [["\"["]]]', 3), (r'["\\\"[[", [[]]]', 3), ("", 0),
    ]:  # fmt: skip
        assert nesting_depth(text.encode()) == depth, text


# The fuzz: random JSON built from the fields these files hold, with every kind of value
# in every place, raw tokens json.dumps never writes, and byte-level damage.


class Raw(str):
    """A token written as it is: NaN, 1e400, a 5,000-digit integer, deep brackets."""


RAW = [
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "1E+2",
    "1" * 4301, "9" * 5001, "[" * 65 + "]" * 65, "[" * 1000 + "]" * 1000,
    "{" * 70 + "}" * 70, '"\\ud800"', '"\\udc00\\ud800"', "[" * 100_000 + "]" * 100_000,
]  # fmt: skip
FIELDS = [
    "image_id", "category_id", "category_name", "bbox", "score", "id", "images",
    "annotations", "categories", "file_name", "width", "height", "iscrowd", "area",
    "name", "segmentation",
]  # fmt: skip


def _value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(14 if depth < 4 else 10)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, 1, 2, 18, 397133, -1, 2**31, 2**63, 10**300, 10**400])
    if kind == 3:
        return rng.choice([0.5, -3.25, 1e-300, 1e308, 1e39, -0.0, 397133.0, 2.5e9])
    if kind == 4:
        return rng.choice(["", "397133", "0.5", "cat", "café", "a/../b", "\x00",
                           "日本", "x" * 5000, "../../etc/passwd", "a/b.jpg"])  # fmt: skip
    if kind == 5:
        return Raw(rng.choice(RAW))
    if kind in (6, 7, 8, 9):
        return [rng.uniform(-50, 700) for _ in range(rng.choice([0, 2, 3, 4, 4, 5]))]
    if kind in (10, 11):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(6))]
    return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(6))}


def _dumps(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    return json.dumps(value)


def _mutated(rng: random.Random, base):
    """``base`` (a dict or a list) with a few fields replaced, removed or added, at any
    depth."""
    value = json.loads(json.dumps(base))
    for _ in range(rng.randrange(1, 4)):
        node = value
        while isinstance(node, (dict, list)) and node and rng.random() < 0.6:
            key = rng.choice(list(node) if isinstance(node, dict) else range(len(node)))
            if not isinstance(node[key], (dict, list)):
                break
            node = node[key]
        if isinstance(node, dict):
            key = rng.choice([*node, rng.choice(FIELDS)]) if node else "image_id"
            if rng.random() < 0.2:
                node.pop(key, None)
            else:
                node[key] = _value(rng)
        elif isinstance(node, list) and node:
            node[rng.randrange(len(node))] = _value(rng)
    return value


def _damaged(rng: random.Random, text: str) -> bytes:
    """The text as bytes, now and then cut short, re-encoded or given a stray byte."""
    data = text.encode("utf-8")
    roll = rng.random()
    if roll < 0.05:
        return data[: rng.randrange(len(data) + 1)]
    if roll < 0.10:
        return text.encode("latin-1", "replace")
    if roll < 0.15:
        at = rng.randrange(len(data) + 1)
        return data[:at] + bytes([rng.randrange(256)]) + data[at:]
    if roll < 0.18:
        return b"\xef\xbb\xbf" + data
    return data


def _document(rng: random.Random, base):
    roll = rng.random()
    if roll < 0.05:
        return _value(rng)
    return _mutated(rng, base)


CASES = 2500


def test_fuzzed_predictions_files_raise_only_the_typed_error(tmp_path, dataset):
    rng = random.Random(20240524)
    base = [dict(ENTRY), {**ENTRY, "image_id": 1, "category_id": 1}]
    path = tmp_path / "fuzz.json"
    outcomes = {"read": 0, "refused": 0}
    for case in range(CASES):
        path.write_bytes(_damaged(rng, _dumps(_document(rng, base))))
        try:
            detections, _ = load_coco_results(str(path), dataset)
        except ResultsFileError as exc:
            assert str(exc).startswith(f"{path}: "), (case, str(exc)[:300])
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # the fuzz reports what escaped
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc}\n"
                        f"{path.read_bytes()[:500]!r}")  # fmt: skip
        outcomes["read"] += 1
        for d in detections.values():
            assert np.isfinite(d.xyxy).all() and np.isfinite(d.scores).all(), case
    assert min(outcomes.values()) > CASES // 50, outcomes  # both paths exercised


def test_fuzzed_coco_annotations_raise_only_the_typed_error(tmp_path):
    rng = random.Random(20240525)
    base = {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 100, "height": 80},
            {"id": 2, "file_name": "b.jpg", "width": 100, "height": 80},
        ],
        "annotations": [
            {"id": i, "image_id": 1 + i % 2, "category_id": 1 + i % 2, "iscrowd": 0,
             "bbox": [10, 10, 20, 30], "area": 600}
            for i in range(3)
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
    }  # fmt: skip
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    path = tmp_path / "annotations" / "instances.json"
    outcomes = {"read": 0, "refused": 0}
    for case in range(CASES):
        path.write_bytes(_damaged(rng, _dumps(_document(rng, base))))
        try:
            ds = load_coco(path, tmp_path / "images")
        except DatasetError as exc:
            assert str(exc).startswith("annotations/instances.json"), (case, str(exc))
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # the fuzz reports what escaped
            pytest.fail(f"case {case}: {type(exc).__name__}: {exc}\n"
                        f"{path.read_bytes()[:500]!r}")  # fmt: skip
        outcomes["read"] += 1
        for sample in ds.samples:
            assert math.isfinite(sample.gt.extra["area"].sum()), case
            str(sample.path).encode("utf-8")  # every name can be shown and stored
    assert min(outcomes.values()) > CASES // 50, outcomes
