"""A predictions file read column by column (numpy) gives exactly what the entry-by-entry
checks give: the same detections, arrays and dtypes, the same left-out counts, and the
same message for a file that does not fit (``results_file._columns`` hands every
irregular file to ``_read_each``)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

import tests.test_results_file as fuzz
from tests.test_results_file import ENTRY, dataset  # noqa: F401 (a fixture)
from visioncompare.evaluation import results_file
from visioncompare.evaluation.results_file import ResultsFileError, load_coco_results


def _each(path, ds):
    """The entry-by-entry reading of the same file."""
    return results_file._read_each(results_file._read_entries(str(path)), str(path), ds)


def _outcome(read, path, ds):
    try:
        return read(str(path), ds)
    except ResultsFileError as exc:
        return str(exc)


def _same(a, b) -> None:
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    (dets_a, skipped_a), (dets_b, skipped_b) = a, b
    assert list(skipped_a.items()) == list(skipped_b.items())
    assert list(dets_a) == list(dets_b)
    for image_id, x in dets_a.items():
        y = dets_b[image_id]
        assert x.class_names == y.class_names
        pairs = [(x.xyxy, y.xyxy), (x.scores, y.scores), (x.class_ids, y.class_ids)]
        assert list(x.extra) == list(y.extra)
        pairs += [(x.extra[k], y.extra[k]) for k in x.extra]
        for u, v in pairs:
            assert u.dtype == v.dtype and u.shape == v.shape
            assert np.array_equal(u, v), image_id


def test_a_large_file_reads_the_same_both_ways(tmp_path, dataset):  # noqa: F811
    rng = np.random.default_rng(3)
    n = 3000
    xy = rng.uniform(-5, 600, (n, 2))
    wh = rng.uniform(-3, 300, (n, 2))  # a few negative widths and heights
    entries = [
        {"image_id": int(i), "category_id": int(c), "bbox": [*p, *q], "score": float(s)}
        for i, c, p, q, s in zip(
            rng.choice([1, 2, 397133], n), rng.choice([1, 18, 7, 99], n), xy.tolist(),
            wh.tolist(), np.round(rng.uniform(0, 1, n), 3),
        )
    ]  # fmt: skip
    entries[5]["bbox"] = [1, 2, 3, 4]  # integers
    entries[6]["score"] = 1
    entries[7]["segmentation"] = []  # another field
    path = tmp_path / "many.json"
    path.write_text(json.dumps(entries))
    assert results_file._columns(results_file._read_entries(str(path))) is not None
    read = load_coco_results(str(path), dataset)
    assert sum(read[1].values()) > 0  # categories 7 and 99 are left out, counted
    _same(read, _each(path, dataset))


@pytest.mark.parametrize(
    "change",
    [
        {"image_id": 397133.0},
        {"category_id": 18.0},
        {"category_name": "dog"},
        {"bbox": [1, 2, 3, 1e39]},
        {"score": float("nan")},
        {"score": 10**39},
        {"category_id": 2**64},
        {"bbox": (1, 2, 3)},
    ],
)
def test_an_irregular_entry_is_read_entry_by_entry(tmp_path, dataset, change):  # noqa: F811
    path = tmp_path / "one.json"
    entries = [dict(ENTRY), {**ENTRY, **change}]
    path.write_text(json.dumps(entries))
    assert results_file._columns(results_file._read_entries(str(path))) is None
    _same(_outcome(load_coco_results, path, dataset), _outcome(_each, path, dataset))


def test_an_unknown_image_is_named_by_the_entry_loop(tmp_path, dataset):  # noqa: F811
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps([dict(ENTRY), {**ENTRY, "image_id": 5}]))
    columns = results_file._columns(results_file._read_entries(str(path)))
    assert columns is not None and results_file._read_columns(*columns, dataset) is None
    with pytest.raises(ResultsFileError, match="entry 1: image_id 5 is not in mini"):
        load_coco_results(str(path), dataset)


def test_fuzzed_files_read_the_same_both_ways(tmp_path, dataset):  # noqa: F811
    rng = random.Random(20240527)
    base = [dict(ENTRY), {**ENTRY, "image_id": 1, "category_id": 1},
            {**ENTRY, "image_id": 2, "category_id": 7}]  # fmt: skip
    path = tmp_path / "fuzz.json"
    columns = 0
    for case in range(1500):
        path.write_bytes(fuzz._damaged(rng, fuzz._dumps(fuzz._document(rng, base))))
        try:
            entries = results_file._read_entries(str(path))
        except ResultsFileError:
            continue
        columns += results_file._columns(entries) is not None
        _same(_outcome(load_coco_results, path, dataset), _outcome(_each, path, dataset))
    assert columns > 20, columns
