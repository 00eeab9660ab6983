"""JSON written by any tool or any visitor, read without a crash: every way the text can
fail is one ``JSONTextError`` that says what is wrong (not UTF-8, not JSON, nested too
deeply, a number too long, a string that is no text), for the caller to prefix with the
file's name.

Nesting is bounded at ``MAX_DEPTH`` levels, far below Python's recursion limit, so no
later step that walks the parsed value (``repr`` in a message, a copy) can hit a
``RecursionError`` either. The depth is counted on the bytes at C speed (``bytes``
methods and numpy): under two tenths of a second for a 65 MB results file that takes
two and a half seconds to parse.
"""

from __future__ import annotations

import json
import re

import numpy as np

MAX_DEPTH = 64
"""The most lists and objects inside each other a file may hold (COCO files use five)."""

_STEP = np.zeros(256, np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A ``\\uD800``-``\\uDFFF`` escape: half of a UTF-16 pair, or a lone one (not text)."""


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
        data, text = text, decode_utf8(text)
    else:
        data = text.encode("utf-8", "surrogatepass")
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
