"""The fast path of the predictions reader (issue 5, speed): numba JSONL scan, in-place parsing
and id lookup must give exactly what the ``json.loads`` path and the text parser give."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mazebench.evaluate import jsonl_scan
from mazebench.evaluate.digests import event_digests, plan_digests
from mazebench.evaluate.parse import completion_bytes, parse_batch, parse_spans
from mazebench.evaluate.predictions import ReadStats, _decode_line, read_predictions
from mazebench.evaluate.reference import _lookup_spans

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

COMPLETION = "reasoning close 1 2 c0 c3 create 1 3 c1 c2 solution plan 1 2 plan 1 3 end"

# pieces of lines: what models and scripts write, and what breaks JSON readers
SCALARS = st.one_of(
    st.text(max_size=12), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
    st.booleans(), st.none(), st.sampled_from([COMPLETION, "a\\b", "é", "\u2003x y", "\x00"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)
KEYS = st.sampled_from(["id", "completion", "sample", "logprobs", "token_ids", "x", "ID"])
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=5)
PLAIN = st.one_of(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
                  st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
                  st.booleans(), st.none())
PLAIN_OBJECTS = st.dictionaries(st.sampled_from(["x", "y", "meta", "sample", "logprobs"]), PLAIN,
                                max_size=3)


def _render(obj: dict, style: int) -> str:
    text = json.dumps(obj, ensure_ascii=bool(style & 1),
                      separators=(",", ":") if style & 2 else (", ", ": "))
    if style & 4:
        text = " \t" + text + " \r"
    return text


@st.composite
def lines(draw) -> bytes:
    """One line of a predictions file (no newline), mostly near-valid JSON objects."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=40)).replace(b"\n", b" ")
    if kind == 1:
        return draw(st.text(max_size=40)).encode("utf-8", "surrogatepass").replace(b"\n", b" ")
    obj = draw(OBJECTS if kind < 6 else PLAIN_OBJECTS)
    if kind >= 5:  # usable lines with a plain id and completion, and other keys
        obj["id"] = draw(st.sampled_from(["a-1", "a-2", "x", "", "é-1", "b-7"]))
        obj["completion"] = draw(st.sampled_from([COMPLETION, "", "plan 1 2", "q\\\"", 7, "x"]))
        if kind >= 7:
            obj["sample"] = draw(st.one_of(
                st.none(), st.integers(-1, 99), st.integers(-3, 2**31 + 2),
                st.sampled_from([1.0, "2", True, 2**31 - 1])))
    text = _render(obj, draw(st.integers(0, 7)))
    cut = draw(st.integers(0, 20))
    if cut == 0:  # truncated, a trailing comma, a duplicate key
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == 1 and text.rstrip().endswith("}"):
        text = text.rstrip()[:-1] + ', "id": "dup"}'
    elif cut == 2 and text.rstrip().endswith("}"):
        text = text.rstrip()[:-1] + ",}"
    return text.encode("utf-8", "surrogatepass").replace(b"\n", b" ")


def _slow_read(data: bytes):
    """The reference: every line through ``json.loads`` (:func:`_decode_line`)."""
    stats = ReadStats()
    rows = []
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for number, raw in enumerate(parts, start=1):
        stats.lines += 1
        full = raw + b"\n" if number < len(parts) or data.endswith(b"\n") else raw
        if not full.strip():
            stats.blank += 1
            continue
        got = _decode_line(full, number, stats)
        if got is None:
            continue
        stats.read += 1
        ident, text, ids, sample, conf = got
        rows.append((number, ident, None if text is None else completion_bytes(text),
                     None if ids is None else ids.tolist(), sample,
                     None if conf is None else conf.tolist()))
    return rows, stats


def _fast_read(path: Path, **kw):
    chunks, stats = read_predictions(path, **kw)
    rows = []
    for c in chunks:
        conf = [c.conf[c.conf_offsets[i]: c.conf_offsets[i + 1]] for i in range(len(c))]
        for i in range(len(c)):
            a, b = int(c.text_start[i]), int(c.text_end[i])
            rows.append((int(c.line[i]), c.id(i), None if a < 0 else c.buf[a:b].tobytes(),
                         c.token_ids[i].tolist() if i in c.token_ids else None,
                         int(c.sample[i]), conf[i].tolist() if c.has_conf[i] else None))
    return rows, stats


def _same(fast, slow) -> None:
    (rf, sf), (rs, ss) = fast, slow
    assert sf.to_dict() == ss.to_dict()
    assert len(rf) == len(rs)
    for a, b in zip(rf, rs):
        assert a[:5] == b[:5]
        if a[5] is None or b[5] is None:
            assert a[5] is b[5] is None
        else:
            np.testing.assert_array_equal(np.array(a[5]), np.array(b[5]))


@FUZZ
@given(st.lists(lines(), max_size=12), st.booleans(), st.integers(1, 64), st.integers(1, 5))
def test_fast_path_equals_json_loads(tmp_path, body, newline, chunk_bytes, chunk_lines):
    data = b"\n".join(body) + (b"\n" if newline and body else b"")
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    _same(_fast_read(path, chunk_bytes=chunk_bytes, chunk_lines=chunk_lines), _slow_read(data))
    _same(_fast_read(path), _slow_read(data))


@FUZZ
@given(lines())
def test_scan_line_never_raises_and_agrees(line):
    arr = np.frombuffer(line + b"\n", dtype=np.uint8)
    starts, ends, used = jsonl_scan.line_bounds(arr, final=True)
    assert used == arr.shape[0] and starts.tolist() == [0] and ends.tolist() == [len(line)]
    status, ia, ib, ca, cb, sample = jsonl_scan.scan_lines(arr, starts, ends)[0].tolist()
    if status == jsonl_scan.BLANK:
        assert not line.strip()
    elif status == jsonl_scan.OK:
        obj = json.loads(line)  # the fast path only takes lines json.loads reads
        assert obj["id"] == line[ia:ib].decode() and obj["id"]
        assert obj["completion"] == line[ca:cb].decode()
        assert sample == (obj.get("sample") if obj.get("sample") is not None else -1)
        assert obj.get("logprobs") is None


def test_typical_lines_take_the_fast_path():
    body = [
        json.dumps({"id": "train-0", "completion": COMPLETION}),
        json.dumps({"id": "train-0", "sample": 3, "completion": COMPLETION, "meta": 1.5e-3}),
        ' {"completion":"x","id":"a","sample":null,"logprobs":null,"ok":true} ',
    ]
    arr = np.frombuffer("\n".join(body).encode(), dtype=np.uint8)
    starts, ends, _ = jsonl_scan.line_bounds(arr, final=True)
    out = jsonl_scan.scan_lines(arr, starts, ends)
    assert out[:, 0].tolist() == [jsonl_scan.OK] * 3
    assert out[:, 5].tolist() == [-1, 3, -1]
    slow = ['{"id": "a\\u0041", "completion": "x"}', '{"id": "a", "completion": "é"}',
            '{"id": 5, "completion": "x"}', '{"id": "a", "completion": "x", "id": "b"}',
            '{"id": "a", "token_ids": [1, 2]}', '{"id": "a", "completion": "x", "sample": 1e3}',
            '{"id": "a", "completion": "x"} x', '{"id": "a", "completion": "x",}', "[1]"]
    arr = np.frombuffer("\n".join(slow).encode(), dtype=np.uint8)
    starts, ends, _ = jsonl_scan.line_bounds(arr, final=True)
    assert (jsonl_scan.scan_lines(arr, starts, ends)[:, 0] == jsonl_scan.FALLBACK).all()


def test_gzip_and_long_lines(tmp_path):
    body = [json.dumps({"id": f"a-{i}", "completion": COMPLETION * (1 + 40 * (i % 3)),
                        "sample": i}) for i in range(30)]
    body[7] = "not json"
    data = ("\n".join(body) + "\n").encode()
    path = tmp_path / "p.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(data)
    for chunk_bytes in (50, 4096, 1 << 40):  # lines longer than a block grow the block
        _same(_fast_read(path, chunk_bytes=chunk_bytes, chunk_lines=4), _slow_read(data))


def test_gzip_magic_in_a_plain_file_and_damaged_gzip(tmp_path):
    plain = tmp_path / "p.jsonl"
    plain.write_bytes(b"\x1f\x8b\x08 not gzip\n" + json.dumps({"id": "a"}).encode() + b"\n")
    _same(_fast_read(plain), _slow_read(plain.read_bytes()))
    damaged = tmp_path / "p.jsonl.gz"
    damaged.write_bytes(gzip.compress(plain.read_bytes())[:-12])
    with pytest.raises(ValueError, match="p.jsonl.gz: damaged gzip stream"):
        _fast_read(damaged)


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=60), st.lists(
    st.sampled_from(["create", "close", "plan", "1", "2", "c0", "c3", "solution", "x", "end"]),
    max_size=30).map(" ".join)), max_size=8), st.sampled_from(["beyond-semantics",
                                                                 "searchformer"]))
def test_parse_spans_equals_parse_batch(texts, dialect):
    blobs = [completion_bytes(t) for t in texts]
    pad = b"  junk "  # spans sit anywhere in a buffer
    buf = b"".join(pad + b for b in blobs) + pad
    starts, pos = [], 0
    for b in blobs:
        starts.append(pos + len(pad))
        pos += len(pad) + len(b)
    starts = np.array(starts, dtype=np.int64)
    ends = starts + np.array([len(b) for b in blobs], dtype=np.int64)
    got = parse_spans(np.frombuffer(buf, np.uint8), starts, ends, dialect)
    want = parse_batch(texts, dialect)
    for name in ("op", "x", "y", "g", "h", "event_pos", "event_offsets", "plan_x", "plan_y",
                 "plan_pos", "plan_offsets", "error_kind", "error_index", "error_pos",
                 "error_offsets", "n_tokens", "trace_end", "event_digest", "plan_digest"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(got.event_digest, event_digests(
        got.op, got.x, got.y, got.g, got.h, got.event_offsets))
    np.testing.assert_array_equal(got.plan_digest, plan_digests(
        got.plan_x, got.plan_y, got.plan_offsets))


@FUZZ
@given(st.lists(st.text(max_size=6), min_size=1, max_size=20, unique=True),
       st.lists(st.text(max_size=8), max_size=20))
def test_lookup_spans_equals_numpy_search(table_ids, queries):
    enc = [s.encode("utf-8", "surrogatepass") for s in table_ids]
    enc = [e for e in enc if e and b"\x00" not in e] or [b"a"]
    width = max(len(e) for e in enc)
    raw = np.array(enc, dtype=f"S{width}")
    order = np.argsort(raw, kind="stable")
    table = raw[order].view(np.uint8).reshape(len(enc), width)
    keys = [q.encode("utf-8", "surrogatepass") for q in queries] + enc[:3]
    buf = np.frombuffer(b"".join(keys) or b" ", dtype=np.uint8)
    ends = np.cumsum([len(k) for k in keys]).astype(np.int64)
    starts = ends - np.array([len(k) for k in keys], dtype=np.int64)
    out = np.empty(len(keys), dtype=np.int64)
    _lookup_spans(table, order, buf, starts, ends, out)
    want = [enc.index(k) if k in enc else -1 for k in keys]
    assert out.tolist() == want


@pytest.mark.parametrize("text", ["", "   ", "\t\r", "\x0b\x0c", "\x1c"])
def test_blank_lines_are_bytes_strip(tmp_path, text):
    data = (text + "\n" + json.dumps({"id": "a", "completion": "x"})).encode()
    path = tmp_path / "p.jsonl"
    path.write_bytes(data)
    _same(_fast_read(path), _slow_read(data))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=8),
       st.booleans())
def test_baseline_lines_are_json_dumps_bytes(pairs, plain):
    """The baseline's JSONL writer (a kernel for printable ASCII, json.dumps otherwise) gives
    json.dumps' bytes for any id and completion."""
    import pyarrow as pa

    from mazebench.evaluate.baseline import _lines

    if plain:  # the kernel's path: what mazebench writes
        pairs = [(i.encode("ascii", "ignore").decode().replace('"', "").replace("\\", ""),
                  t.encode("ascii", "ignore").decode().replace('"', "").replace("\\", ""))
                 for i, t in pairs]
        pairs = [("".join(c for c in i if c >= " " and c != "\x7f"),
                  "".join(c for c in t if c >= " " and c != "\x7f")) for i, t in pairs]
    ids = pa.array([i for i, _ in pairs], pa.string())
    texts = [t.encode() for _, t in pairs]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])]).astype(np.int64)
    buf = np.frombuffer(b"".join(texts) + b"slack", dtype=np.uint8).copy()
    want = "".join(json.dumps({"id": i, "completion": t}, separators=(",", ":")) + "\n"
                   for i, t in pairs).encode()
    assert _lines(ids, buf, offsets) == want
    if len(pairs) > 1:  # a sliced id column
        assert _lines(ids.slice(1), buf, offsets[1:]) == "".join(
            json.dumps({"id": i, "completion": t}, separators=(",", ":")) + "\n"
            for i, t in pairs[1:]).encode()
