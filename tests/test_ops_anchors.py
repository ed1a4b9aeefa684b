"""Anchor labels (arXiv 2506.19143 maze analogue) and drop-anchors vs drop-routine."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mazebench.ops import anchor_labels

from .test_ops_common import FAST, assert_round_trip, events, example_sets, run, solutions


def _labels_oracle(trace, goal) -> list[int]:
    out, last, concluded = [], None, False
    for op, x, y in zip(trace.op.tolist(), trace.x.tolist(), trace.y.tolist()):
        if concluded:
            out.append(3)
            continue
        if op == 0:
            out.append(0)
            continue
        if (x, y) == goal:
            out.append(2)
            concluded = True
        elif last is not None and abs(x - last[0]) + abs(y - last[1]) != 1:
            out.append(1)
        else:
            out.append(0)
        last = (x, y)
    return out


@FAST
@given(example_sets(), st.sampled_from(["", "extend:events=9"]))
def test_labels_match_an_oracle_and_the_jump_metric(data, pre) -> None:
    sols, profile, seed = data
    outs = run(sols, [p for p in (pre, "anchors") if p], seed=seed, profile=profile)
    for sol, out in zip(sols, outs):
        labels = out.info["trace_anchor"].tolist()
        assert labels == _labels_oracle(out.trace, out.problem.goal)
        assert anchor_labels(out).tolist() == labels
        if not pre:
            # the branch_jumps metric also counts a conclusion that is itself a jump
            closes = [(x, y) for op, x, y, *_ in events(sol.trace) if op == 1]
            jump_to_goal = (sol.solved and len(closes) > 1 and abs(closes[-1][0] - closes[-2][0])
                            + abs(closes[-1][1] - closes[-2][1]) != 1)
            assert labels.count(1) + jump_to_goal == sol.metrics["branch_jumps"]
            assert labels.count(2) == int(sol.solved)
            assert 3 not in labels
        assert labels.count(3) == out.info.get("tail_events", 0)


@FAST
@given(example_sets(), st.floats(0, 1), st.sampled_from(["any", "close"]))
def test_drop_anchors_and_drop_routine_remove_the_same_number(data, fraction, kind) -> None:
    sols, profile, seed = data
    anchors = run(sols, f"drop-anchors:fraction={fraction}", seed=seed, profile=profile)
    routine = run(sols, f"drop-routine:fraction={fraction},kind={kind}", seed=seed,
                  profile=profile)
    for sol, a, r in zip(sols, anchors, routine):
        labels = _labels_oracle(sol.trace, sol.problem.goal)
        ev = events(sol.trace)
        jumps = [e for e, lab in zip(ev, labels) if lab == 1]
        want = int(np.floor(len(jumps) * fraction + 1e-9))
        # drop-anchors removes `want` jump events and nothing else
        assert a.info["removed_events"] == want == len(ev) - len(a.trace)
        kept_a = events(a.trace)
        assert [e for e, lab in zip(ev, labels) if lab != 1] == [e for e in kept_a
                                                                 if e not in set(jumps)]
        # drop-routine removes as many routine events (or all candidates), nothing else
        cand = [e for e, lab in zip(ev, labels) if lab == 0 and (kind == "any" or e[0] == 1)]
        assert r.info["removed_events"] == min(want, len(cand)) == len(ev) - len(r.trace)
        kept_r = set(events(r.trace))
        assert all(e in kept_r for e, lab in zip(ev, labels) if lab != 0)
        for out in (a, r):
            assert out.plan == sol.plan
            assert_round_trip(out)


def test_routine_control_is_exact_with_kind_any() -> None:
    sols = solutions(8, seed=3, size=13)
    a = run(sols, "drop-anchors", seed=1, profile="beyond-semantics")
    r = run(sols, "drop-routine", seed=1, profile="beyond-semantics")
    assert [x.info["removed_events"] for x in a] == [x.info["removed_events"] for x in r]
    assert sum(x.info["removed_events"] for x in a) > 0
