"""Fast path of the predictions reader: the common JSONL line, found in its bytes by numba.

:func:`scan_lines` splits a block of a predictions file into lines and reads, in parallel and
without a Python object per line, every line that is a flat JSON object of plain values::

    {"id": "test_wilson-17", "completion": "reasoning close 3 4 c0 c21 ... end", "sample": 3}

It gives the byte spans of ``id`` and ``completion`` and the ``sample`` integer. A line is
taken by the fast path only when that is certainly what ``json.loads`` would give: the whole
line is printable ASCII (tabs and carriage returns allowed between tokens), one object whose keys
and string values have no escapes, whose values are strings, numbers, ``true``, ``false`` or
``null`` (no nested arrays or objects), with ``id`` a non-empty string, ``completion`` a string,
``sample`` absent, null or an integer in ``[-1, 2**31)``, ``logprobs`` absent or null, and none of
those keys twice. Every other line is marked :data:`FALLBACK` and the reader decodes it with
``json.loads`` (:mod:`.predictions`), so results never depend on which path read a line.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

OK = 0
BLANK = 1
FALLBACK = 2

_K_OTHER = 0
_K_ID = 1
_K_COMPLETION = 2
_K_SAMPLE = 3
_K_LOGPROBS = 4

_V_BAD = 0
_V_STRING = 1
_V_INT = 2
_V_NUMBER = 3  # a float or an integer too long to read here
_V_LITERAL = 4  # true / false
_V_NULL = 5

# bytes a plain string may hold: printable ASCII but the quote and the backslash
_PLAIN = np.zeros(256, dtype=np.uint8)
_PLAIN[32:127] = 1
_PLAIN[34] = 0
_PLAIN[92] = 0


@njit(cache=True, inline="always")
def _ws(buf, i, b):
    while i < b and (buf[i] == 32 or buf[i] == 9 or buf[i] == 13):
        i += 1
    return i


@njit(cache=True, inline="always")
def _string_end(buf, i, b):
    """End (index of the closing quote) of a plain string opened at ``i - 1``; -1 if absent or
    if it holds an escape, a control byte or a non-ASCII byte."""
    while i < b and _PLAIN[buf[i]]:
        i += 1
    return i if i < b and buf[i] == 34 else -1


@njit(cache=True, inline="always")
def _digits(buf, i, b):
    while i < b and 48 <= buf[i] <= 57:
        i += 1
    return i


@njit(cache=True, inline="always")
def _number(buf, i, b):
    """JSON number at ``i``: ``(end, kind, value)``; kind ``_V_BAD`` if malformed."""
    a = i
    neg = buf[i] == 45
    if neg:
        i += 1
    if i >= b or not 48 <= buf[i] <= 57:
        return i, _V_BAD, 0
    d0 = i
    if buf[i] == 48:
        i += 1
    else:
        i = _digits(buf, i, b)
    d1 = i
    kind = _V_INT
    if i < b and buf[i] == 46:
        j = _digits(buf, i + 1, b)
        if j == i + 1:
            return j, _V_BAD, 0
        i = j
        kind = _V_NUMBER
    if i < b and (buf[i] == 101 or buf[i] == 69):
        i += 1
        if i < b and (buf[i] == 43 or buf[i] == 45):
            i += 1
        j = _digits(buf, i, b)
        if j == i:
            return j, _V_BAD, 0
        i = j
        kind = _V_NUMBER
    value = np.int64(0)
    if kind == _V_INT:
        if d1 - d0 > 12:
            kind = _V_NUMBER
        else:
            for k in range(d0, d1):
                value = value * 10 + (buf[k] - 48)
            if neg:
                value = -value
    if a == i:
        kind = _V_BAD
    return i, kind, value


@njit(cache=True, inline="always")
def _literal(buf, i, b, word0, word1, word2, word3, word4, n):
    """True if the ``n``-letter literal spelled by ``word*`` is at ``i``."""
    if i + n > b:
        return False
    if buf[i] != word0 or buf[i + 1] != word1 or buf[i + 2] != word2 or buf[i + 3] != word3:
        return False
    return n == 4 or buf[i + 4] == word4


@njit(cache=True, inline="always")
def _key_code(buf, a, b):
    n = b - a
    if n == 2 and buf[a] == 105 and buf[a + 1] == 100:
        return _K_ID
    if n == 10 and buf[a] == 99:  # completion
        w = (99, 111, 109, 112, 108, 101, 116, 105, 111, 110)
        for k in range(10):
            if buf[a + k] != w[k]:
                return _K_OTHER
        return _K_COMPLETION
    if n == 6 and buf[a] == 115:  # sample
        w6 = (115, 97, 109, 112, 108, 101)
        for k in range(6):
            if buf[a + k] != w6[k]:
                return _K_OTHER
        return _K_SAMPLE
    if n == 8 and buf[a] == 108:  # logprobs
        w8 = (108, 111, 103, 112, 114, 111, 98, 115)
        for k in range(8):
            if buf[a + k] != w8[k]:
                return _K_OTHER
        return _K_LOGPROBS
    return _K_OTHER


@njit(cache=True)
def scan_line(buf, a, b, out, t):
    """Read line ``buf[a:b]`` (no newline) into row ``t`` of ``out``: ``(status, id start, id
    end, completion start, completion end, sample)``."""
    out[t, 0] = FALLBACK
    blank = True
    for i in range(a, b):
        c = buf[i]
        if not (c == 32 or (9 <= c <= 13)):
            blank = False
            break
    if blank:
        out[t, 0] = BLANK
        return
    seen = 0
    id_a = id_b = c_a = c_b = np.int64(-1)
    sample = np.int64(-1)
    i = _ws(buf, a, b)
    if i >= b or buf[i] != 123:
        return
    i = _ws(buf, i + 1, b)
    if i >= b or buf[i] == 125:
        return  # {} has no id: the slow path counts it
    while True:
        if i >= b or buf[i] != 34:
            return
        ke = _string_end(buf, i + 1, b)
        if ke < 0:
            return
        key = _key_code(buf, i + 1, ke)
        if key != _K_OTHER:
            if (seen >> key) & 1:
                return
            seen |= 1 << key
        i = _ws(buf, ke + 1, b)
        if i >= b or buf[i] != 58:
            return
        i = _ws(buf, i + 1, b)
        if i >= b:
            return
        c = buf[i]
        kind = _V_BAD
        va = i
        vb = i
        value = np.int64(0)
        if c == 34:
            e = _string_end(buf, i + 1, b)
            if e < 0:
                return
            kind = _V_STRING
            va = i + 1
            vb = e
            i = e + 1
        elif c == 45 or 48 <= c <= 57:
            i, kind, value = _number(buf, i, b)
        elif c == 116 and _literal(buf, i, b, 116, 114, 117, 101, 0, 4):
            kind = _V_LITERAL
            i += 4
        elif c == 102 and _literal(buf, i, b, 102, 97, 108, 115, 101, 5):
            kind = _V_LITERAL
            i += 5
        elif c == 110 and _literal(buf, i, b, 110, 117, 108, 108, 0, 4):
            kind = _V_NULL
            i += 4
        if kind == _V_BAD:
            return
        if key == _K_ID:
            if kind != _V_STRING or vb == va:
                return
            id_a = va
            id_b = vb
        elif key == _K_COMPLETION:
            if kind != _V_STRING:
                return
            c_a = va
            c_b = vb
        elif key == _K_SAMPLE:
            if kind == _V_INT and -1 <= value < 2147483648:
                sample = value
            elif kind != _V_NULL:
                return
        elif key == _K_LOGPROBS and kind != _V_NULL:
            return
        i = _ws(buf, i, b)
        if i >= b:
            return
        if buf[i] == 44:
            i = _ws(buf, i + 1, b)
            continue
        if buf[i] != 125:
            return
        break
    if _ws(buf, i + 1, b) != b or id_a < 0 or c_a < 0:
        return
    out[t, 0] = OK
    out[t, 1] = id_a
    out[t, 2] = id_b
    out[t, 3] = c_a
    out[t, 4] = c_b
    out[t, 5] = sample


@njit(cache=True, parallel=True)
def scan_lines(buf, starts, ends):
    """:func:`scan_line` of every line ``buf[starts[t]:ends[t]]``, in parallel; an
    ``(n, 6)`` int64 array."""
    n = starts.shape[0]
    out = np.empty((n, 6), dtype=np.int64)
    for t in prange(n):
        scan_line(buf, starts[t], ends[t], out, t)
    return out


@njit(cache=True)
def _newlines(buf, n):
    count = 0
    for i in range(n):
        if buf[i] == 10:
            count += 1
    out = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(n):
        if buf[i] == 10:
            out[k] = i
            k += 1
    return out


def line_bounds(buf: np.ndarray, final: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Starts and ends (newline excluded) of the complete lines of ``buf``, and the number of
    bytes they use; the bytes after the last newline make a line only when ``final``."""
    nl = _newlines(buf, buf.shape[0])
    used = int(nl[-1]) + 1 if nl.size else 0
    starts = np.empty(nl.size + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = nl + 1
    ends = np.empty(nl.size + 1, dtype=np.int64)
    ends[:-1] = nl
    ends[-1] = buf.shape[0]
    if final and used < buf.shape[0]:
        return starts, ends, int(buf.shape[0])
    return starts[:-1], ends[:-1], used
