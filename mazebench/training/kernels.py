"""Numba kernels of the word-level tokenizers: texts to ids, ids to texts, dataset rows to ids.

Texts are split exactly as the Hugging Face ``tokenizers`` pipeline the Beyond Semantics authors
configured (arXiv 2505.13775): special tokens are cut out first wherever they occur, then the
``Whitespace`` pre-tokenizer splits the rest into runs of word characters ``[A-Za-z0-9_]`` and
runs of other non-space characters (the regex ``\\w+|[^\\w\\s]+``), and each piece is looked up
as a whole word. Bytes of non-ASCII characters count as word characters (such words are never in
a maze vocabulary, so only the number of unknown tokens can differ from ``tokenizers``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

BS = 0
SF = 1


@njit(cache=True, inline="always")
def _is_space(c) -> bool:
    return c == 32 or (9 <= c <= 13)


@njit(cache=True, inline="always")
def _is_word(c) -> bool:
    return (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c == 95 or c >= 128


@njit(cache=True)
def _special_at(buf, pos, end, sp_bytes, sp_len):
    """Index of the longest special token starting at ``buf[pos]``, or -1."""
    best = -1
    best_len = 0
    for k in range(sp_len.shape[0]):
        n = sp_len[k]
        if n > best_len and pos + n <= end:
            ok = True
            for j in range(n):
                if buf[pos + j] != sp_bytes[k, j]:
                    ok = False
                    break
            if ok:
                best = k
                best_len = n
    return best


@njit(cache=True)
def _digits_value(buf, a, b):
    """Value of the decimal word ``buf[a:b]`` without leading zeros, or -1."""
    if b <= a or b - a > 9 or (b - a > 1 and buf[a] == 48):
        return -1
    v = 0
    for i in range(a, b):
        c = buf[i]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@njit(cache=True)
def _lookup(buf, a, b, num_id, cost_id, kw_bytes, kw_len, kw_id, unk):
    v = _digits_value(buf, a, b)
    if v >= 0:
        return num_id[v] if v < num_id.shape[0] else unk
    if buf[a] == 99 and b - a >= 2:  # c<k>
        v = _digits_value(buf, a + 1, b)
        if v >= 0:
            return cost_id[v] if v < cost_id.shape[0] else unk
    for k in range(kw_len.shape[0]):
        if kw_len[k] == b - a:
            ok = True
            for j in range(b - a):
                if buf[a + j] != kw_bytes[k, j]:
                    ok = False
                    break
            if ok:
                return kw_id[k]
    return unk


@njit(cache=True)
def encode_texts(buf, boff, num_id, cost_id, kw_bytes, kw_len, kw_id, sp_bytes, sp_len, sp_id,
                 sp_first, unk, ids, off, bad):
    """Token ids of texts ``buf[boff[i]:boff[i + 1]]`` into ``ids[off[i]:off[i + 1]]``.

    ``ids`` needs one slot per byte; ``sp_first[b]`` marks the first bytes of special tokens.
    With ``unk < 0`` an unknown word stops the text and sets ``bad = (text, byte start, byte
    end)``; returns the number of ids written.
    """
    n = boff.shape[0] - 1
    t = 0
    off[0] = 0
    for i in range(n):
        pos = boff[i]
        end = boff[i + 1]
        while pos < end:
            k = _special_at(buf, pos, end, sp_bytes, sp_len) if sp_first[buf[pos]] else -1
            if k >= 0:
                ids[t] = sp_id[k]
                t += 1
                pos += sp_len[k]
                continue
            c = buf[pos]
            if _is_space(c):
                pos += 1
                continue
            word = _is_word(c)
            a = pos
            pos += 1
            while pos < end:
                c = buf[pos]
                if _is_space(c) or _is_word(c) != word:
                    break
                if sp_first[c] and _special_at(buf, pos, end, sp_bytes, sp_len) >= 0:
                    break
                pos += 1
            tid = _lookup(buf, a, pos, num_id, cost_id, kw_bytes, kw_len, kw_id, unk) if word \
                else unk
            if tid < 0:
                bad[0] = i
                bad[1] = a
                bad[2] = pos
                off[i + 1] = t
                return t
            ids[t] = tid
            t += 1
        off[i + 1] = t
    return t


@njit(cache=True)
def decode_ids(ids, off, tok_bytes, tok_len, skip, buf, out_off):
    """Texts of id rows ``ids[off[i]:off[i + 1]]``: tokens joined by single spaces.

    Ids with ``skip[id]`` set are left out. Returns the bytes written to ``buf``.
    """
    pos = 0
    out_off[0] = 0
    for i in range(off.shape[0] - 1):
        first = True
        for j in range(off[i], off[i + 1]):
            t = ids[j]
            if skip[t]:
                continue
            if not first:
                buf[pos] = 32
                pos += 1
            first = False
            for k in range(tok_len[t]):
                buf[pos + k] = tok_bytes[t, k]
            pos += tok_len[t]
        out_off[i + 1] = pos
    return pos


@njit(cache=True, inline="always")
def _cost(cost_id, unk, v):
    return cost_id[v] if 0 <= v < cost_id.shape[0] else unk


@njit(cache=True)
def row_lengths(dialect, n_walls, n_events, n_plan, specials, trace=True):
    """``(prompt, completion)`` token counts of rows (see :func:`encode_rows`)."""
    n = n_walls.shape[0]
    if not trace:
        n_events = np.zeros_like(n_events)
    prompt = np.empty(n, dtype=np.int64)
    completion = np.empty(n, dtype=np.int64)
    for i in range(n):
        if dialect == BS:
            prompt[i] = 7 + 3 * n_walls[i] + (1 if specials else 0)
            completion[i] = 3 + 5 * n_events[i] + 3 * n_plan[i] + (1 if specials else 0)
        else:
            prompt[i] = 6 + 3 * n_walls[i] + (2 if specials else 0)
            completion[i] = 5 * n_events[i] + 3 * n_plan[i] + (2 if specials else 0)
    return prompt, completion


@njit(cache=True)
def encode_rows(dialect, num_id, cost_id, kw, bos, eos, unk, specials, trace, walls, sg, ev_off,
                op, ex, ey, eg, eh, pl_off, px, py, unsolved, ids, off, prompt_len):
    """Token ids of whole examples straight from their arrays (no text in between).

    ``kw`` holds the ids of ``start goal wall create close plan query reasoning solution end``
    (the last four unused for Searchformer). Rows are ``bos prompt completion eos`` for
    Beyond Semantics and ``bos prompt eos bos reasoning plan eos`` for Searchformer (its encoder
    input followed by its decoder target), without ``bos``/``eos`` when ``specials`` is False;
    ``prompt_len[i]`` counts the ids before the completion. ``unsolved[i]`` writes the plan
    ``start, goal`` (upstream's plan of an unsolvable problem). Costs outside the vocabulary
    become ``unk`` (-1 when the vocabulary has none: the caller checks). Without ``trace`` the
    events are left out (solution-only supervision: ``reasoning solution <plan> end``, or
    Searchformer's ``bos plan eos`` target).
    """
    n = walls.shape[0]
    width = walls.shape[2]
    t = 0
    off[0] = 0
    for i in range(n):
        if specials:
            ids[t] = bos
            t += 1
        if dialect == BS:
            ids[t] = kw[6]
            t += 1
        sx, sy, gx, gy = sg[i, 0], sg[i, 1], sg[i, 2], sg[i, 3]
        ids[t] = kw[0]
        ids[t + 1] = num_id[sx]
        ids[t + 2] = num_id[sy]
        ids[t + 3] = kw[1]
        ids[t + 4] = num_id[gx]
        ids[t + 5] = num_id[gy]
        t += 6
        w = walls[i]
        for y in range(w.shape[0]):
            for x in range(width):
                if w[y, x]:
                    ids[t] = kw[2]
                    ids[t + 1] = num_id[x]
                    ids[t + 2] = num_id[y]
                    t += 3
        if dialect == SF and specials:
            ids[t] = eos
            ids[t + 1] = bos
            t += 2
            prompt_len[i] = t - off[i] - 1
        else:
            prompt_len[i] = t - off[i]
        if dialect == BS:
            ids[t] = kw[7]
            t += 1
        for e in range(ev_off[i], ev_off[i + 1] if trace else ev_off[i]):
            ids[t] = kw[3] if op[e] == 0 else kw[4]
            ids[t + 1] = num_id[ex[e]]
            ids[t + 2] = num_id[ey[e]]
            ids[t + 3] = _cost(cost_id, unk, eg[e])
            ids[t + 4] = _cost(cost_id, unk, eh[e])
            t += 5
        if dialect == BS:
            ids[t] = kw[8]
            t += 1
        if unsolved[i]:
            ids[t] = kw[5]
            ids[t + 1] = num_id[sx]
            ids[t + 2] = num_id[sy]
            ids[t + 3] = kw[5]
            ids[t + 4] = num_id[gx]
            ids[t + 5] = num_id[gy]
            t += 6
        else:
            for p in range(pl_off[i], pl_off[i + 1]):
                ids[t] = kw[5]
                ids[t + 1] = num_id[px[p]]
                ids[t + 2] = num_id[py[p]]
                t += 3
        if dialect == BS:
            ids[t] = kw[9]
            t += 1
        if specials:
            ids[t] = eos
            t += 1
        off[i + 1] = t
    return t
