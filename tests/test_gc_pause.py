"""``collection_paused`` pauses the cyclic garbage collector and restores its state."""

from __future__ import annotations

import gc

import pytest

from visioncompare.kernel.gc_pause import collection_paused


def test_the_collector_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():  # nested: the outer pause holds
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_stays_off_and_errors_restore_it():
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()

    @collection_paused()
    def fails():
        assert not gc.isenabled()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fails()
    assert gc.isenabled()
