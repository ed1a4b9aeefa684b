"""The parser's numba kernels: the grammar over token kinds, and whole batches of text spans.

:func:`parse_tokens` is the grammar of :mod:`mazebench.evaluate.parse` (see its docstring) over
arrays of token kinds and values. :func:`parse_spans_kernel` tokenizes and parses many byte spans
of one buffer (completions of a predictions chunk, read in place) in parallel blocks, writing
events, plan cells and errors into per-completion capacity blocks; :func:`gather_kernel` packs
those blocks into flat arrays and digests every trace and plan on the way
(:mod:`mazebench.evaluate.digests`), so an exact-match test needs no second pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .digests import feed, feed_event, pair_word, start
from .errors import E_MALFORMED, E_PLAN_MALFORMED, E_UNKNOWN_TOKEN
from .tokens import (
    T_BOS,
    T_CLOSE,
    T_COST,
    T_CREATE,
    T_END,
    T_EOS,
    T_GOAL,
    T_INT,
    T_PAD,
    T_PLAN,
    T_QUERY,
    T_REASONING,
    T_SOLUTION,
    T_START,
    T_UNKNOWN,
    T_WALL,
    tokenize_span,
)


@njit(cache=True, inline="always")
def _error(er, r0, nr, kind, index, pos):
    """Record error ``nr`` of the completion whose errors start at ``er[:, r0]``: its kind, the
    event or plan index and the token position; returns the new error count."""
    er[0, r0 + nr] = kind
    er[1, r0 + nr] = index
    er[2, r0 + nr] = pos
    return nr + 1


@njit(cache=True)
def parse_tokens(kinds, vals, t0, n, sf, ev, e0, pl, p0, er, r0):
    """Parse tokens ``t0 .. t0+n`` (see the module docstring for the grammar).

    Writes events to columns ``e0..`` of ``ev`` (rows op, x, y, g, h, token position), plan cells
    to ``pl`` (rows x, y, position), errors to ``er`` (rows kind, index, position); positions are
    relative to ``t0``. Returns ``(n_events, n_plan, n_errors, trace_end, stop)``: ``trace_end``
    is the position where the trace section ends, ``stop`` where parsing stopped.
    """
    ne = 0
    np_ = 0
    nr = 0
    i = 0
    while i < n and (kinds[t0 + i] == T_BOS or kinds[t0 + i] == T_PAD):
        i += 1
    if i < n and ((kinds[t0 + i] == T_QUERY and not sf) or kinds[t0 + i] == T_START):
        i += 1
        while i < n:
            k = kinds[t0 + i]
            if k == T_START or k == T_GOAL or k == T_WALL or k == T_INT or k == T_PAD:
                i += 1
            else:
                break
    if i < n and kinds[t0 + i] == T_REASONING and not sf:
        i += 1
    section = 0
    junk = False
    trace_end = -1
    while i < n:
        k = kinds[t0 + i]
        if sf and (k == T_QUERY or k == T_REASONING or k == T_SOLUTION or k == T_END):
            k = T_UNKNOWN
        if k == T_EOS or k == T_END:
            break
        if k == T_PAD:
            i += 1
            continue
        if section == 0:
            if k == T_CREATE or k == T_CLOSE:
                if (
                    i + 4 < n
                    and kinds[t0 + i + 1] == T_INT
                    and kinds[t0 + i + 2] == T_INT
                    and kinds[t0 + i + 3] == T_COST
                    and kinds[t0 + i + 4] == T_COST
                ):
                    c = e0 + ne
                    ev[0, c] = 0 if k == T_CREATE else 1
                    ev[1, c] = vals[t0 + i + 1]
                    ev[2, c] = vals[t0 + i + 2]
                    ev[3, c] = vals[t0 + i + 3]
                    ev[4, c] = vals[t0 + i + 4]
                    ev[5, c] = i
                    ne += 1
                    i += 5
                    junk = False
                    continue
                nr = _error(er, r0, nr, E_MALFORMED, ne, i)
                junk = True
                i += 1
                continue
            if k == T_SOLUTION or k == T_PLAN:
                section = 1
                trace_end = i
                junk = False
                if k == T_SOLUTION:
                    i += 1
                continue
            if k == T_UNKNOWN:
                nr = _error(er, r0, nr, E_UNKNOWN_TOKEN, ne, i)
            elif not junk:
                nr = _error(er, r0, nr, E_MALFORMED, ne, i)
                junk = True
            i += 1
        else:
            if k == T_PLAN:
                if i + 2 < n and kinds[t0 + i + 1] == T_INT and kinds[t0 + i + 2] == T_INT:
                    c = p0 + np_
                    pl[0, c] = vals[t0 + i + 1]
                    pl[1, c] = vals[t0 + i + 2]
                    pl[2, c] = i
                    np_ += 1
                    i += 3
                    junk = False
                    continue
                nr = _error(er, r0, nr, E_PLAN_MALFORMED, np_, i)
                junk = True
                i += 1
                continue
            if k == T_UNKNOWN or not junk:
                nr = _error(er, r0, nr, E_PLAN_MALFORMED, np_, i)
                junk = junk or k != T_UNKNOWN
            i += 1
    if trace_end < 0:
        trace_end = i
    return ne, np_, nr, trace_end, i


@njit(cache=True, parallel=True)
def parse_spans_kernel(buf, starts, ends, tcount, lkinds, lvals, loff, sf, ev, ecap, pl, pcap,
                       er, rcap, meta, n_blocks):  # fmt: skip
    """Tokenize and parse completion ``t``: the bytes ``buf[starts[t]:ends[t]]``, or, when
    ``starts[t] < 0``, the pre-classified tokens ``lkinds/lvals[loff[t]:loff[t + 1]]``.

    ``tcount[t]`` bounds its token count; tokens live in a scratch buffer per block of
    completions. ``meta[:, t]`` = (events, plan cells, errors, trace end, stop, tokens).
    """
    n = starts.shape[0]
    for blk in prange(n_blocks):
        lo = blk * n // n_blocks
        hi = (blk + 1) * n // n_blocks
        cap = 1
        for t in range(lo, hi):
            cap = max(cap, tcount[t])
        kinds = np.empty(cap, dtype=np.int8)
        vals = np.empty(cap, dtype=np.int32)
        for t in range(lo, hi):
            if starts[t] >= 0:
                nt = tokenize_span(buf, starts[t], ends[t], kinds, vals, 0)
            else:
                nt = loff[t + 1] - loff[t]
                for i in range(nt):
                    kinds[i] = lkinds[loff[t] + i]
                    vals[i] = lvals[loff[t] + i]
            ne, np_, nr, tend, stop = parse_tokens(
                kinds, vals, 0, nt, sf, ev, ecap[t], pl, pcap[t], er, rcap[t]
            )
            meta[0, t] = ne
            meta[1, t] = np_
            meta[2, t] = nr
            meta[3, t] = tend
            meta[4, t] = stop
            meta[5, t] = nt


@njit(cache=True, parallel=True)
def gather_kernel(ev, ecap, pl, pcap, er, rcap, meta, eoff, poff, roff, op, x, y, g, h, epos,
                  px, py, ppos, rkind, rindex, rpos, edig, pdig):  # fmt: skip
    """Pack the capacity blocks into flat arrays at ``eoff``/``poff``/``roff``; digest each
    completion's events (``edig``) and plan cells (``pdig``) as :mod:`.digests` does."""
    for t in prange(meta.shape[1]):
        ne = meta[0, t]
        d = start(ne)
        for e in range(ne):
            c = ecap[t] + e
            k = eoff[t] + e
            op[k] = ev[0, c]
            x[k] = ev[1, c]
            y[k] = ev[2, c]
            g[k] = ev[3, c]
            h[k] = ev[4, c]
            epos[k] = ev[5, c]
            d = feed_event(d, ev[0, c], ev[1, c], ev[2, c], ev[3, c], ev[4, c])
        edig[t] = d
        npl = meta[1, t]
        d = start(npl)
        for e in range(npl):
            c = pcap[t] + e
            k = poff[t] + e
            px[k] = pl[0, c]
            py[k] = pl[1, c]
            ppos[k] = pl[2, c]
            d = feed(d, pair_word(pl[0, c], pl[1, c]))
        pdig[t] = d
        for e in range(meta[2, t]):
            c = rcap[t] + e
            k = roff[t] + e
            rkind[k] = er[0, c]
            rindex[k] = er[1, c]
            rpos[k] = er[2, c]
