"""Numba helpers that write ASCII tokens into a preallocated uint8 buffer.

Serialising inside numba lets a batch of examples become text without a Python object per token
(the ``reproduce`` pipeline writes tens of thousands of 30x30 examples a second this way).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _const_memcpy(size: int):
    """An intrinsic ``f(dst, dst_pos, src, src_pos)`` copying ``size`` bytes between uint8 arrays.

    A copy of a literal size compiles to unaligned vector moves, about 12x faster than a byte
    loop (which LLVM cannot vectorise because the arrays may alias).
    """

    @intrinsic
    def memcpy_const(typingctx, dst, dst_pos, src, src_pos):
        sig = types.void(dst, types.intp, src, types.intp)

        def codegen(context, builder, signature, args):
            d = context.make_array(signature.args[0])(context, builder, args[0])
            s = context.make_array(signature.args[2])(context, builder, args[2])
            dptr = builder.gep(d.data, [args[1]])
            sptr = builder.gep(s.data, [args[3]])
            count = context.get_constant(types.intp, size)
            cgutils.raw_memcpy(builder, dptr, sptr, count, 1)
            return context.get_dummy_value()

        return sig, codegen

    return memcpy_const


copy8 = _const_memcpy(8)
copy32 = _const_memcpy(32)


def lit(text: str) -> np.ndarray:
    """An ASCII literal as a uint8 array (a compile-time constant when used as a global)."""
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).copy()


@njit(cache=True, inline="always")
def put(buf, pos, token):
    """Copy ``token`` to ``buf[pos:]``; return the new position."""
    for i in range(token.shape[0]):
        buf[pos + i] = token[i]
    return pos + token.shape[0]


@njit(cache=True, inline="always")
def put_byte(buf, pos, byte):
    buf[pos] = byte
    return pos + 1


def _digit_table(limit: int) -> tuple[np.ndarray, np.ndarray]:
    table = np.zeros((limit, 8), dtype=np.uint8)
    lengths = np.zeros(limit, dtype=np.int64)
    for v in range(limit):
        text = str(v).encode()
        table[v, : len(text)] = np.frombuffer(text, dtype=np.uint8)
        lengths[v] = len(text)
    return table, lengths


_SMALL = 10000
_DIGITS, _DIGIT_LENGTHS = _digit_table(_SMALL)


@njit(cache=True, inline="always")
def put_fixed(buf, pos, row, width, length):
    """Copy ``width`` bytes of a table row and advance by ``length`` (for any row width)."""
    for i in range(width):
        buf[pos + i] = row[i]
    return pos + length


@njit(cache=True, inline="always")
def put32(buf, pos, table, row, length):
    """Copy row ``row`` of a C-contiguous ``(n, 32)`` uint8 table, advance by ``length``.

    The caller keeps 32 bytes of slack at the end of ``buf``.
    """
    copy32(buf, pos, table, row * 32)
    return pos + length


@njit(cache=True, inline="always")
def put_small(buf, pos, value):
    """Write a non-negative integer below 10000 with one fixed 8-byte copy."""
    copy8(buf, pos, _DIGITS, value * 8)
    return pos + _DIGIT_LENGTHS[value]


@njit(cache=True)
def put_int(buf, pos, value):
    """Write a decimal integer (negative allowed); return the new position."""
    v = np.int64(value)
    if 0 <= v < _SMALL:
        n = _DIGIT_LENGTHS[v]
        for i in range(n):
            buf[pos + i] = _DIGITS[v, i]
        return pos + n
    if v < 0:
        buf[pos] = 45  # '-'
        pos += 1
        v = -v
    if v == 0:
        buf[pos] = 48
        return pos + 1
    n = 0
    t = v
    while t > 0:
        t //= 10
        n += 1
    for i in range(n - 1, -1, -1):
        buf[pos + i] = 48 + v % 10
        v //= 10
    return pos + n
