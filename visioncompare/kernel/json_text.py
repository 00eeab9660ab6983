"""JSON written by any tool or any visitor, read without a crash: every way the text can
fail is one ``JSONTextError`` that says what is wrong (not UTF-8, not JSON, nested too
deeply, a number too long, a string that is no text), for the caller to prefix with the
file's name.

Nesting is bounded at ``MAX_DEPTH`` levels, far below Python's recursion limit, so no
later step that walks the parsed value (``repr`` in a message, a copy) can hit a
``RecursionError`` either. The depth is counted on the bytes at C speed (``bytes``
methods and numpy): under two tenths of a second for a 65 MB results file that takes
two and a half seconds to parse.

With orjson installed, a text is parsed by orjson first (about five times faster than
``json``); whatever orjson refuses, and any text whose value orjson would give otherwise
(an integer beyond 64 bits, which orjson turns into a float), is parsed by ``json`` as
without it, so values and messages are the same either way.
"""

from __future__ import annotations

import json
import re

import numpy as np

from visioncompare.kernel.gc_pause import collection_paused

try:
    import orjson
except ImportError:  # optional: requirements.txt names it
    orjson = None

MAX_DEPTH = 64
"""The most lists and objects inside each other a file may hold (COCO files use five)."""

_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A ``\\uD800``-``\\uDFFF`` escape: half of a UTF-16 pair, or a lone one (not text)."""
_NUMBER_SHAPE = bytearray(b" ") * 256
_NUMBER_SHAPE[ord("0") : ord("9") + 1] = b"0" * 10
_NUMBER_SHAPE[ord(".")] = ord(".")
_NUMBER_SHAPE[ord("e")] = _NUMBER_SHAPE[ord("E")] = ord("e")
"""Digits as ``0``, ``.`` and ``e`` kept, every other byte a space: an integer is a run
of ``0`` between spaces (a float's digits touch a ``.`` or an ``e``)."""
_LONG_INTEGER = b" " + b"0" * 19
"""An integer of 19 digits or more: the shortest that orjson may not hold in 64 bits (it
gives a float where ``json`` gives an int)."""
_ZEROS = re.compile(b"0*")


class JSONTextError(ValueError):
    """Text that is not JSON this app reads; the message says why, without a file name
    (the caller adds it: ``f"{where}: {error}"``)."""


def decode_utf8(data: bytes) -> str:
    """``data`` as text: UTF-8, a byte-order mark allowed (what JSON files must be).

    Raises:
        JSONTextError: naming the first byte that is not UTF-8 and where it is.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise JSONTextError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, on "
            f"line {line}, cannot be decoded; save the file as UTF-8)"
        ) from exc


def nesting_depth(data: bytes) -> int:
    """How many lists and objects lie inside each other at the deepest point of the JSON
    ``data`` (brackets inside strings are not counted; for bytes that are not JSON, an
    estimate).

    Escapes are read left to right as JSON reads them: an escaped backslash first, then
    an escaped quote; every other byte but brackets and quotes is dropped, and a
    bracket after an odd number of quotes lies inside a string.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = np.frombuffer(data.translate(None, _NOT_STRUCTURE), np.uint8)
    if not len(kept):
        return 0
    steps = _STEP[kept]
    in_string = np.bitwise_xor.accumulate((kept == ord('"')).view(np.uint8))
    steps[in_string == 1] = 0
    # int32: a file under 2 GB cannot be nested 2**31 levels deep
    return max(0, int(np.cumsum(steps, dtype=np.int32).max()))


def _lone_surrogate(value: object) -> str | None:
    """The first string (key or value) in ``value`` that holds half a UTF-16 pair, which
    no file, page or log can write as UTF-8 (None: there is none)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
    return None


def _too_deep(depth: int, max_depth: int) -> JSONTextError:
    return JSONTextError(
        f"nested {depth} levels deep (lists and objects inside each other); at most "
        f"{max_depth} are read"
    )


def parse_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> object:
    """The value of the JSON ``text`` (bytes: UTF-8), as ``json.loads`` gives it
    (``NaN`` and ``Infinity`` included: callers check numbers where they use them).

    Raises:
        JSONTextError: not UTF-8, not JSON (with line and column), nested deeper than
            ``max_depth``, a number of more digits than Python converts, or a string
            with an unpaired surrogate escape (``"\\ud800"``: no text, and it could not
            be written out again).
    """
    if isinstance(text, bytes):
        data = text
        fast = _orjson_value(data.removeprefix(b"\xef\xbb\xbf"))
    else:
        data = text.encode("utf-8", "surrogatepass")
        fast = _orjson_value(data)
    if fast is _REFUSED:
        with collection_paused():
            fast = _json_value(text, data, max_depth)
    value = fast
    depth = nesting_depth(data)
    if depth > max_depth:
        raise _too_deep(depth, max_depth)
    if _SURROGATE_ESCAPE.search(data):  # rare: only then are the strings walked
        text = _lone_surrogate(value)
        if text is not None:
            raise JSONTextError(
                f"the string {text[:40]!a} holds an unpaired \\u escape "
                "(half of a UTF-16 pair), which is not text"
            )
    return value


_REFUSED = object()


def _orjson_value(data: bytes) -> object:
    """``data``'s value by orjson where it equals ``json.loads``' (``_REFUSED``: orjson
    is not installed, refuses the text, or might read one of its numbers otherwise).

    orjson refuses what ``json`` refuses (text that is not UTF-8 or not JSON) and some
    that ``json`` reads (``NaN``, ``Infinity``, ``1e400``, a lone surrogate escape); its
    floats are ``json``'s (both round correctly) and its integers too, up to 64 bits.
    """
    if orjson is None:
        return _REFUSED
    if _long_integer(data):
        return _REFUSED
    if not data.isascii():
        try:  # orjson checks UTF-8 too; this keeps the rule json's own
            data.decode("utf-8")
        except UnicodeDecodeError:
            return _REFUSED
    try:
        with collection_paused():
            return orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError):
        return _REFUSED


def _long_integer(data: bytes) -> bool:
    """True when ``data`` may hold an integer of 19 digits or more (digits inside a
    string may count too: then ``json`` reads the text, which is only slower)."""
    shape = data.translate(_NUMBER_SHAPE)
    if shape.startswith(_LONG_INTEGER[1:]):
        return True
    at = shape.find(_LONG_INTEGER)
    while at >= 0:  # rare outside such integers: a long run of digits in a name
        end = _ZEROS.match(shape, at + 1).end()
        if shape[end : end + 1] not in (b".", b"e"):
            return True
        at = shape.find(_LONG_INTEGER, end)
    return False


def _json_value(text: str | bytes, data: bytes, max_depth: int) -> object:
    """The value of ``text`` by ``json.loads``, every failure a ``JSONTextError``."""
    if isinstance(text, bytes):
        text = decode_utf8(text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONTextError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise _too_deep(nesting_depth(data), max_depth) from exc
    except ValueError as exc:  # only json.loads' int(): more than 4,300 digits
        raise JSONTextError(
            "a number too long to read (more than 4,300 digits; no coordinate, score "
            "or id needs that many)"
        ) from exc
    return value
