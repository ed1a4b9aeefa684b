"""``dualformer``: the trace-dropping levels of Dualformer (arXiv 2410.09918), per example.

Levels (on the ``create``/``close`` clauses of a trace):

* ``L0`` - the whole trace;
* ``L1`` - drop every ``close`` clause;
* ``L2`` - L1, and drop the two cost tokens of every ``create`` (written ``create X Y``);
* ``L3`` - ``l3=paper``: L2, and drop ``floor(0.3 * m)`` of the ``m`` create clauses chosen
  uniformly at random; ``l3=code`` (the released maze code): drop ``floor(p * m / 100)`` of the
  L1 create clauses, ``p`` a uniform integer in 10..40, cost tokens kept;
* ``L4`` - drop the whole trace (plan only).

``level=mix`` draws each example's level with probabilities ``p0 .. p4`` (normalised), as
Dualformer trains; ``epoch`` selects an independent draw (Dualformer redraws every epoch). The
rows record ``dualformer_level`` and ``trace_costs`` (False for L2 and L3-paper: the event columns
keep the true costs, writers omit them; see :mod:`mazebench.ops.text`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numba import njit

from ..params import Param
from ..rng import next_float, next_index, stream_key
from .batch import TraceBatch, _ro
from .events import row_stream
from .registry import Choice, Operator, Step, register

LEVELS = ("0", "1", "2", "3", "4", "mix")
CODE_L0, CODE_L1, CODE_L2, CODE_L3_PAPER, CODE_L3_CODE, CODE_L4 = range(6)


@njit(cache=True, nogil=True)
def _dualformer(off, op, index, key, fixed, cum, l3_code, level_out, costs_out):
    n = off.shape[0] - 1
    keep = np.zeros(op.shape[0], dtype=np.bool_)
    for i in range(n):
        stream = row_stream(key, index[i])
        level = fixed
        if level < 0:
            u = next_float(stream) * cum[4]
            level = 4
            for j in range(5):
                if u < cum[j]:
                    level = j
                    break
        a = off[i]
        b = off[i + 1]
        if level == 0:
            for e in range(a, b):
                keep[e] = True
        elif level == 1 or level == 2 or level == 3:
            m = 0
            for e in range(a, b):
                if op[e] == 0:
                    keep[e] = True
                    m += 1
            if level == 3:
                if l3_code:
                    pct = 10 + next_index(stream, 31)
                    drop = (pct * m) // 100
                else:
                    drop = (3 * m) // 10
                creates = np.empty(m, dtype=np.int64)
                k = 0
                for e in range(a, b):
                    if op[e] == 0:
                        creates[k] = e
                        k += 1
                for j in range(drop):  # partial Fisher-Yates: a uniform subset of `drop`
                    t = j + next_index(stream, m - j)
                    v = creates[j]
                    creates[j] = creates[t]
                    creates[t] = v
                    keep[creates[j]] = False
        if level == 0:
            code = 0
        elif level == 1:
            code = 1
        elif level == 2:
            code = 2
        elif level == 3:
            code = 4 if l3_code else 3
        else:
            code = 5
        level_out[i] = code
        costs_out[i] = not (code == 2 or code == 3)
    return keep


def run_dualformer(batch: TraceBatch, step: Step) -> TraceBatch:
    a = step.args
    weights = np.array([a[f"p{j}"] for j in range(5)], dtype=np.float64)
    fixed = -1 if a["level"] == "mix" else int(a["level"])
    key = np.uint64(stream_key(step.seed, "ops", "dualformer", step.position, step.split,
                               "epoch", int(a["epoch"])))
    n = len(batch)
    level = np.empty(n, dtype=np.int8)
    costs = np.empty(n, dtype=np.bool_)
    keep = _dualformer(batch.off, batch.op, batch.index(), key, fixed, _ro(np.cumsum(weights)),
                       a["l3"] == "code", level, costs)
    costs &= np.asarray(batch.costs)
    for code, name in enumerate(("L0", "L1", "L2", "L3-paper", "L3-code", "L4")):
        step.count(f"rows_{name}", int(np.count_nonzero(level == code)))
    out = replace(batch, costs=_ro(costs), extra={**batch.extra, "dualformer_level": _ro(level)})
    return out.keep_events(keep)


def _check(args: dict) -> None:
    if args["level"] == "mix" and sum(args[f"p{j}"] for j in range(5)) <= 0:
        raise ValueError("dualformer: level=mix needs some positive weight among p0..p4")


register(Operator(
    "dualformer", "truncation",
    "Dualformer trace dropping: level 0-4 for every row, or mix (per-row level drawn with "
    "weights p0..p4, redrawn per epoch); l3=paper|code picks the L3 variant",
    run_dualformer,
    (*(Param(f"p{j}", 0.2, 0.0, 1.0, doc=f"weight of level {j} (mix)") for j in range(5)),
     Param("epoch", 0, 0, 1e9, "int")),
    (Choice("level", "mix", LEVELS), Choice("l3", "paper", ("paper", "code"))),
    columns=("dualformer_level", "trace_costs"), check=_check,
))
