"""Server-wide caches bounded by bytes, the downscaled copy of large uploads, and the
operator's pixel limit."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image

from tests.helpers import encode
from visioncompare.kernel.bounded_cache import ByteBoundedCache, nbytes_of
from visioncompare.kernel.images import (
    ImageTooLargeError,
    decode_image,
    max_pixels_setting,
)
from visioncompare.kernel.types import Detections, Prediction, Timing


def test_nbytes_of_counts_arrays_inside_dataclasses_once():
    boxes = Detections(np.zeros((100, 4)), np.zeros(100), np.zeros(100, int), ("a",))
    prediction = Prediction("m", "cpu", Timing(), detections=boxes)
    arrays = boxes.xyxy.nbytes + boxes.scores.nbytes + boxes.class_ids.nbytes
    assert arrays <= nbytes_of(prediction) <= arrays + 64 * 64
    big = np.zeros((1000, 1000, 3), np.uint8)
    # A view is the array it shows: counted once, not twice.
    assert 3_000_000 <= nbytes_of((big, big[::2], big)) < 3_000_000 + 1024


def test_the_cache_keeps_what_fits_in_its_bytes():
    cache = ByteBoundedCache(10_000, nbytes_of)
    for n in range(20):
        cache.put(str(n), np.zeros(3000, np.uint8))
    assert cache.nbytes <= 10_000 and len(cache) == 3
    assert cache.get("19") is not None and cache.get("0") is None
    cache.clear("18")
    assert cache.get("18") is None and cache.get("19") is not None and len(cache) == 2
    cache.clear()
    assert cache.nbytes == 0 and len(cache) == 0


def test_callers_asking_for_the_same_key_at_once_compute_it_once():
    cache = ByteBoundedCache(1 << 20)
    calls = []
    gate = threading.Event()

    def compute():
        calls.append(1)
        gate.wait(5)
        return np.ones(10)

    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(cache.get_or_compute("k", compute))
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    while not calls:
        time.sleep(0.01)
    time.sleep(0.1)  # the others are now waiting for the first
    gate.set()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 6
    assert all(r is results[0] for r in results)


def test_a_failure_is_not_cached():
    cache = ByteBoundedCache(1 << 20)
    with pytest.raises(ZeroDivisionError):
        cache.get_or_compute("k", lambda: 1 / 0)
    assert cache.get_or_compute("k", lambda: "ok") == "ok"


def test_a_large_upload_keeps_only_a_downscaled_copy():
    solid = encode(Image.new("RGB", (6000, 3000), (10, 200, 30)), "PNG")
    loaded = decode_image(solid, "solid.png", max_side=2048)
    assert loaded.array.shape == (1024, 2048, 3)
    assert loaded.original_size == (6000, 3000)
    assert loaded.scale == pytest.approx(6000 / 2048)
    assert (loaded.array == (10, 200, 30)).all()
    small = decode_image(
        encode(Image.new("RGB", (64, 48)), "PNG"), "s.png", max_side=2048
    )
    assert small.original_size is None and small.scale == 1.0


def test_the_pixel_limit_is_an_operator_setting(monkeypatch):
    data = encode(Image.new("RGB", (200, 100)), "PNG")
    monkeypatch.setenv("VISIONCOMPARE_MAX_PIXELS", "10000")
    assert max_pixels_setting() == 10_000
    with pytest.raises(ImageTooLargeError, match=r"x\.png is 200x100.*limit"):
        decode_image(data, "x.png")
    monkeypatch.setenv("VISIONCOMPARE_MAX_PIXELS", "20_000")
    assert decode_image(data, "x.png").width == 200
    monkeypatch.setenv("VISIONCOMPARE_MAX_PIXELS", "lots")
    with pytest.raises(ValueError, match="VISIONCOMPARE_MAX_PIXELS"):
        max_pixels_setting()


def test_freed_memory_can_be_given_back():
    """With glibc (Linux servers, CI) the freed heap goes back to the system; elsewhere
    the call says it could not."""
    import platform

    from visioncompare.kernel.memory import release_free_memory

    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")


def test_byte_cached_keys_by_named_arguments_and_clears_per_function():
    from components.shared.cache import byte_cached

    shared = ByteBoundedCache(1 << 20)
    calls = []

    @byte_cached(shared)
    def double(key: str, _data: np.ndarray) -> np.ndarray:
        calls.append(key)
        return _data * 2

    @byte_cached(shared)
    def triple(key: str, _data: np.ndarray) -> np.ndarray:
        calls.append(key)
        return _data * 3

    data = np.arange(4)
    first = double("a", data)
    assert double("a", np.zeros(4)) is first  # the underscore argument is not the key
    assert (triple("a", data) == data * 3).all() and calls == ["a", "a"]
    double.clear()
    double("a", data)
    triple("a", data)
    assert calls == ["a", "a", "a"]


def test_callers_of_one_key_never_compute_at_the_same_time():
    """Even when the value is not kept (here: too big for the cache), callers of one key
    take turns: a caller arriving while others wait joins their queue."""

    cache = ByteBoundedCache(max_bytes=0)
    state = {"active": 0, "most": 0, "calls": 0}
    guard = threading.Lock()

    def compute():
        with guard:
            state["active"] += 1
            state["calls"] += 1
            state["most"] = max(state["most"], state["active"])
        time.sleep(0.02)
        with guard:
            state["active"] -= 1
        return np.zeros(10)

    threads = [
        threading.Thread(target=cache.get_or_compute, args=("k", compute))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert state["calls"] == 8 and state["most"] == 1
    assert not cache._computing  # no lock is kept once every caller is done


def test_nbytes_of_counts_cached_properties_and_leaves_out_what_it_is_told():
    from dataclasses import dataclass
    from functools import cached_property

    @dataclass(frozen=True)
    class Held:
        base: np.ndarray

        @cached_property
        def doubled(self) -> np.ndarray:
            return self.base * 2

    held = Held(np.zeros(10_000))
    before = nbytes_of(held)
    assert 80_000 <= before < 81_000
    assert held.doubled.shape == (10_000,)  # computed, and kept on the object
    assert 160_000 <= nbytes_of(held) < 161_000
    shared = np.zeros(50_000)
    assert nbytes_of((held, shared), skip=[shared]) == nbytes_of((held,))


def test_a_byte_bounded_dict_lets_the_oldest_go_and_keeps_the_newest():
    from visioncompare.kernel.bounded_cache import ByteBoundedDict

    kept = ByteBoundedDict(25_000, nbytes_of)
    for n in range(5):
        kept.put(("run", n), np.zeros(1000))  # 8 KB each: three fit
    assert list(kept) == [("run", 2), ("run", 3), ("run", 4)]
    dropped = kept.put(("huge",), np.zeros(100_000))  # over the budget alone: kept
    assert list(kept) == [("huge",)] and len(dropped) == 3
    assert kept.get(("huge",)) is not None and ("run", 4) not in kept
    grows = [np.zeros(1000)]
    kept.clear()
    kept.put("a", grows)
    grows.append(np.zeros(2500))  # measured again at the next store: 28 KB now
    kept.put("b", np.zeros(10))
    assert list(kept) == ["b"]


def test_report_views_stay_in_their_budget_and_go_with_their_session():
    """Issue #24: views of reports (per-image tables, downloads, ...) are kept within a
    byte budget for the whole server, under keys starting with their session's id, so
    a session's can be removed at once when it ends."""
    from components.shared.cache import byte_cached

    views = ByteBoundedCache(200_000)

    @byte_cached(views, first="report_id")
    def table(report_id: str, conf: float, _report) -> np.ndarray:
        return np.full(5000, conf)  # 40 KB

    for session in ("s1", "s2"):
        for step in range(20):
            table(f"{session}/r", step / 20, object())
            assert views.nbytes <= 200_000
    assert len(views) == 4  # the most recent, within the budget
    kept = table("s2/r", 0.95, None)
    assert table("s2/r", 0.95, None) is kept  # a hit, the underscore argument aside
    table("s1/r", 0.5, None)
    views.clear("s1/")  # what the end of session s1 does
    assert len(views) == 3 and all(key.startswith("s2/r|") for key in views._items)
