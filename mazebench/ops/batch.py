"""A batch of dataset rows as traces and plans, and its conversion from and to Arrow tables.

:class:`TraceBatch` holds the rows' traces (:class:`~mazebench.ops.traces.Traces`: the shard's
folded values, decoded only as far as an operator asks) and plans next to an Arrow table of
every other column, so operators work on whole shards or splits without per-example objects.
:func:`batch_from_table` takes the ``trace`` column's values as they are
(:mod:`mazebench.datasets.packed`); :func:`table_from_batch` writes the new values (encoding
records only when an operator produced records), recomputes the trace metrics and appends the
provenance columns:

==================  =============  =========================================================
column              type           meaning
==================  =============  =========================================================
source_trace_hash   string         128-bit hash (hex) of the row's trace before any operator
source_n_events     int32          that trace's length in events (ground-truth difficulty)
ops                 string         the operator chain applied, ``NAME:k=v,...|NAME:...``
swap_source         int64          (swap) ``index`` of the example whose trace the row got
tail_events         int32          (extend) events the search logged after the goal's close
removed_events      int32          (cuts, keep-prefix, drop-anchors/-routine) events removed
dualformer_level    string         (dualformer) ``L0``, ``L1``, ``L2``, ``L3-paper``,
                                   ``L3-code`` or ``L4`` (arXiv 2410.09918)
trace_costs         bool           (dualformer) False when the create clauses are written
                                   without their two cost tokens (L2, L3-paper)
trace_anchor        binary         (anchors) one int8 per event: 0 routine, 1 jump,
                                   2 conclusion, 3 post-conclusion (arXiv 2506.19143)
==================  =============  =========================================================

The trace hash (:mod:`.trace_hash`) is 128 bits over the trace's folded value (not
cryptographic: it identifies a trace; the blake2b content hashes of :mod:`mazebench.problem`
identify problems).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from ..datasets.folded import longest_row
from ..datasets.packed import (
    LABEL_DTYPE,
    PLAN_DTYPE,
    TRACE_DTYPE,
    folded_of,
    pack,
    pack_records,
    records_of,
    unpack,
)
from ..datasets.schema import repeated_string
from ..search.metrics import scan_events_into
from .trace_hash import hash_ranges
from .traces import Traces, row_cells

TRACE_COLUMNS = ("trace",)
PLAN_COLUMNS = ("plan",)
TRACE_METRICS = (
    "n_events", "n_closes", "n_creates", "trace_tokens", "branch_jumps", "goal_close_index",
    "goal_create_index", "plan_length",
)
PROVENANCE = {
    "source_trace_hash": pa.string(),
    "source_n_events": pa.int32(),
    "ops": pa.string(),
    "swap_source": pa.int64(),
    "tail_events": pa.int32(),
    "removed_events": pa.int32(),
    "dualformer_level": pa.string(),
    "trace_costs": pa.bool_(),
    "trace_anchor": pa.binary(),
}
PROVENANCE_DOCS = {
    "source_trace_hash": "hash of the row's trace before any operator",
    "source_n_events": "its length in events (ground-truth difficulty)",
    "ops": "the operator chain applied",
    "swap_source": "index of the example whose trace the row got",
    "tail_events": "events logged after the goal's close by extend",
    "removed_events": "events removed by cuts, keep-prefix or drop-anchors/-routine",
    "dualformer_level": "Dualformer level of the row",
    "trace_costs": "False when create clauses are written without cost tokens",
    "trace_anchor": "per-event label: 0 routine, 1 jump, 2 conclusion, 3 post-conclusion",
}
DUALFORMER_LEVELS = ("L0", "L1", "L2", "L3-paper", "L3-code", "L4")


def _ro(a: np.ndarray, dtype=None) -> np.ndarray:
    """A C-contiguous read-only view (kernels always see read-only inputs: one compilation)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    v = a.view()
    v.flags.writeable = False
    return v


def _field_view(array: str, name: str) -> property:
    """A read-only property: field ``name`` of the record array attribute ``array`` (a strided
    view, no copy)."""
    return property(lambda self: getattr(self, array)[name],
                    doc=f"``{array}[{name!r}]``: a strided view of the records")


def _trace_field(name: str) -> property:
    return property(lambda self: self.traces.field(name),
                    doc=f"the trace field ``{name}`` (see :meth:`Traces.field`)")


def _take_rows(off: np.ndarray, records: np.ndarray, rows: np.ndarray):
    """``(off, records)`` whose row ``i`` is row ``rows[i]`` of the input (read-only)."""
    from .events import take_records

    new_off, raw = take_records(off, records.view(np.uint8), records.dtype.itemsize,
                                _ro(rows, np.int64))
    return _ro(new_off), _ro(raw).view(records.dtype)


@dataclass
class TraceBatch:
    """Rows of one split: their traces and plans plus the other columns as Arrow.

    ``traces`` (:class:`~mazebench.ops.traces.Traces`) holds the traces as the shard's folded
    values, as records of :data:`~mazebench.datasets.packed.TRACE_DTYPE`, or both, decoding what
    is asked for: ``op``, ``x``, ``y``, ``g``, ``h`` are arrays numba reads in place, ``records``
    every record (row ``i``: ``records[off[i]:off[i + 1]]``). ``plan`` holds
    :data:`~mazebench.datasets.packed.PLAN_DTYPE` records. ``extra`` holds the per-row
    provenance columns the chain has produced so far (numpy arrays, keyed by column name);
    ``anchors`` asks for the ``trace_anchor`` labels of the final trace.

    ``gather`` (from ``swap``) defers a gather of whole traces: row ``i``'s trace is then row
    ``gather[i]`` of ``traces``, which keeps the source rows. Slices stay deferred, and
    :meth:`resolved` performs the gather, so a swapped split is gathered row group by row group
    as it is written instead of into a second copy of the split's traces.
    """

    table: pa.Table
    traces: Traces
    plan_off: np.ndarray
    plan_records: np.ndarray | None  # None: decoded from plan_column on first use
    costs: np.ndarray
    extra: dict = field(default_factory=dict)
    anchors: bool = False
    gather: np.ndarray | None = None
    plan_column: pa.ChunkedArray | None = None  # the source's plan column while plans are kept

    def __len__(self) -> int:
        return int(self.gather.shape[0] if self.gather is not None else len(self.traces))

    def resolved(self) -> TraceBatch:
        """The batch with a deferred gather (``gather``) carried out."""
        if self.gather is None:
            return self
        return replace(self, gather=None).take_traces(self.gather)

    @property
    def off(self) -> np.ndarray:
        return self.traces.off

    @property
    def plan(self) -> np.ndarray:
        """The plan records (:data:`~mazebench.datasets.packed.PLAN_DTYPE`)."""
        if self.plan_records is None:
            self.plan_records = _ro(unpack(self.plan_column, PLAN_DTYPE, "plan")[1])
        return self.plan_records

    @property
    def records(self) -> np.ndarray:
        return self.traces.records

    op = _trace_field("op")
    x = _trace_field("x")
    y = _trace_field("y")
    g = _trace_field("g")
    h = _trace_field("h")
    plan_x = _field_view("plan", "x")
    plan_y = _field_view("plan", "y")

    @property
    def events(self) -> tuple:
        return self.off, self.op, self.x, self.y, self.g, self.h

    def with_traces(self, traces: Traces) -> TraceBatch:
        return replace(self, traces=traces)

    def with_events(self, off, op, x, y, g, h) -> TraceBatch:
        """The batch with new traces given as separate field arrays (packed here)."""
        return self.with_traces(Traces(off, records=records_of(TRACE_DTYPE, op, x, y, g, h)))

    def with_records(self, off: np.ndarray, raw: np.ndarray) -> TraceBatch:
        """The batch with new traces given as packed bytes (``raw``, uint8) and row offsets."""
        return self.with_traces(Traces(off, records=np.asarray(raw).view(TRACE_DTYPE)))

    def with_plan(self, off, x, y) -> TraceBatch:
        return replace(self, plan_off=_ro(off, np.int64),
                       plan_records=_ro(records_of(PLAN_DTYPE, x, y)), plan_column=None)

    @property
    def raw(self) -> np.ndarray:
        """The trace records as bytes (``TRACE_DTYPE.itemsize`` per event)."""
        return self.records.view(np.uint8)

    def remove_events(self, start: np.ndarray, count: np.ndarray) -> TraceBatch:
        """Remove ``count[i]`` events of row ``i`` from its position ``start[i]`` on."""
        return self.with_traces(self.traces.remove_events(start, count))

    def keep_prefixes(self, keep: np.ndarray) -> TraceBatch:
        """Keep the first ``keep[i]`` events of row ``i`` (clipped to its length)."""
        return self.with_traces(self.traces.keep_prefixes(keep))

    def keep_events(self, keep: np.ndarray) -> TraceBatch:
        """Keep the events with ``keep[e]`` True."""
        return self.with_traces(self.traces.keep_events(keep))

    def lengths(self) -> np.ndarray:
        return np.diff(self.off)

    # -- per-row columns as arrays ----------------------------------------------------------
    def column(self, name: str, dtype=None) -> np.ndarray:
        col = self.table.column(name)
        return _ro(col.to_numpy(), dtype)

    def index(self) -> np.ndarray:
        return self.column("index", np.int64)

    def sg(self) -> np.ndarray:
        cols = [self.table.column(c).to_numpy() for c in ("start_x", "start_y", "goal_x", "goal_y")]
        return _ro(np.stack(cols, axis=1), np.int64) if cols[0].size else _ro(
            np.zeros((0, 4), dtype=np.int64))

    def hw(self) -> np.ndarray:
        cols = [self.table.column(c).to_numpy() for c in ("height", "width")]
        return _ro(np.stack(cols, axis=1), np.int64) if cols[0].size else _ro(
            np.zeros((0, 2), dtype=np.int64))

    def packed_walls(self) -> tuple[np.ndarray, np.ndarray]:
        """Packed walls as ``(offsets int64 n+1, bytes uint8)``."""
        col = self.table.column("walls")
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        n = len(col)
        _, offsets, data = col.buffers()
        off = np.frombuffer(offsets, dtype=np.int32)[col.offset : col.offset + n + 1]
        raw = (np.frombuffer(data, dtype=np.uint8) if data is not None
               else np.zeros(0, dtype=np.uint8))
        return _ro(off, np.int64), _ro(raw)

    def slice(self, start: int, stop: int) -> TraceBatch:
        """Rows ``start .. stop - 1`` as views (no copy of the traces)."""
        p0, p1 = int(self.plan_off[start]), int(self.plan_off[stop])
        if self.gather is not None:  # stays deferred: the source rows are kept whole
            traces, gather = self.traces, self.gather[start:stop]
        else:
            traces, gather = self.traces.slice(start, stop), None
        plan = None if self.plan_records is None else self.plan_records[p0:p1]
        return TraceBatch(
            self.table.slice(start, stop - start), traces,
            _ro(self.plan_off[start : stop + 1] - p0), plan, self.costs[start:stop],
            {k: v[start:stop] for k, v in self.extra.items()}, self.anchors, gather,
            None if self.plan_column is None else self.plan_column.slice(start, stop - start),
        )

    def take(self, rows: np.ndarray) -> TraceBatch:
        """The rows ``rows`` (positions), in that order."""
        rows = _ro(rows, np.int64)
        trace_rows = rows if self.gather is None else self.gather[rows]  # one gather, not two
        if self.plan_records is None:
            counts = np.diff(self.plan_off)[rows]
            plan_off, plan = np.zeros(rows.shape[0] + 1, dtype=np.int64), None
            np.cumsum(counts, out=plan_off[1:])
            plan_off = _ro(plan_off)
        else:
            plan_off, plan = _take_rows(self.plan_off, self.plan_records, rows)
        extra = {k: _ro(np.asarray(v)[rows]) for k, v in self.extra.items()}
        return replace(self, table=self.table.take(pa.array(rows)),
                       traces=self.traces.take(trace_rows), plan_off=plan_off, plan_records=plan,
                       costs=_ro(self.costs[rows]), extra=extra, gather=None,
                       plan_column=None if self.plan_column is None else
                       self.plan_column.take(pa.array(rows)))

    def take_traces(self, rows: np.ndarray) -> TraceBatch:
        """The batch whose row ``i`` has the trace of row ``rows[i]`` (other columns kept)."""
        return replace(self, traces=self.traces.take(rows))


def batch_from_table(table: pa.Table, traces: Traces | None = None) -> TraceBatch:
    """A :class:`TraceBatch` over a dataset table; its traces stay folded values (views of the
    column's buffers) until an operator asks for more. ``traces``: the rows' traces read
    apart (:func:`mazebench.ops.dataset.source_batches`), for a table without its
    ``trace`` column."""
    needed = (*PLAN_COLUMNS, "index", "walls", "height", "width", "start_x", "start_y",
              "goal_x", "goal_y")
    missing = [c for c in (needed if traces is not None else (*TRACE_COLUMNS, *needed))
               if c not in table.column_names]
    if missing:
        raise ValueError(f"table is not a mazebench dataset table: column {missing[0]!r} missing")
    if traces is None:
        off, byte_off, data = folded_of(table.column("trace"), TRACE_DTYPE, "trace")
        traces = Traces(off, folded=(byte_off, data))
    elif len(traces) != table.num_rows:
        raise ValueError(f"{len(traces)} traces for a table of {table.num_rows} rows")
    off = traces.off
    plan_off = _ro(folded_of(table.column("plan"), PLAN_DTYPE, "plan")[0])  # records: lazily
    n = table.num_rows
    extra: dict = {}
    if "trace_costs" in table.column_names:
        costs = _ro(table.column("trace_costs").to_numpy(zero_copy_only=False), np.bool_)
    else:
        costs = _ro(np.ones(n, dtype=np.bool_))
    for name in ("swap_source", "tail_events", "removed_events"):
        if name in table.column_names:
            extra[name] = _ro(table.column(name).to_numpy(), PROVENANCE[name].to_pandas_dtype())
    if "dualformer_level" in table.column_names:
        codes = pc.index_in(table.column("dualformer_level"),
                            value_set=pa.array(DUALFORMER_LEVELS))
        if codes.null_count:
            raise ValueError(f"dualformer_level holds a value outside {DUALFORMER_LEVELS}")
        extra["dualformer_level"] = _ro(codes.to_numpy().astype(np.int8).reshape(n))
    anchors = "trace_anchor" in table.column_names
    drop = [c for c in (*TRACE_COLUMNS, *PLAN_COLUMNS, *PROVENANCE) if c in table.column_names
            and c not in ("source_trace_hash", "source_n_events", "ops")]
    rest = table.drop_columns(drop)
    if "source_trace_hash" not in rest.column_names:
        hashes = traces_hashes(traces)
        n_events = np.diff(off).astype(np.int32)
        rest = rest.append_column("source_trace_hash", hashes)
        rest = rest.append_column("source_n_events", pa.array(n_events))
    return TraceBatch(rest, traces, plan_off, None, costs, extra, anchors,
                      plan_column=table.column("plan"))


# -- hashes ----------------------------------------------------------------------------------
def trace_hashes(off, op, x, y, g, h) -> pa.Array:
    """Per-row 128-bit trace hashes (32 hex digits) of traces given as field arrays."""
    return traces_hashes(Traces(off, records=records_of(TRACE_DTYPE, op, x, y, g, h)))


def traces_hashes(traces: Traces) -> pa.Array:
    """Per-row trace hashes of a :class:`Traces` (:mod:`.trace_hash`: over the folded values
    where they are, encoded first when only records are at hand)."""
    return hash_ranges(traces.value_ranges())


# -- metrics ---------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _metrics_row(op, x, y, a, b, gx, gy, costs, plan_len, out, i, cx, cy):
    closes, jumps, gclose, gcreate = scan_events_into(op, x, y, a, b, gx, gy, cx, cy)
    m = b - a
    creates = m - closes
    out[i, 0] = m
    out[i, 1] = closes
    out[i, 2] = creates
    out[i, 3] = 5 * m if costs else 5 * closes + 3 * creates
    out[i, 4] = jumps
    out[i, 5] = gclose
    out[i, 6] = gcreate
    out[i, 7] = plan_len


@njit(cache=True, nogil=True)
def trace_metrics(off, op, x, y, sg, costs, plan_off, out):
    """Fill ``out`` (n, len(TRACE_METRICS)) with the trace metrics of every row.

    Definitions as :mod:`mazebench.search.metrics`; ``trace_tokens`` counts 3 tokens for a
    create clause written without costs (``costs[i]`` False), else 5 per event.
    """
    longest = 1
    for i in range(off.shape[0] - 1):
        longest = max(longest, off[i + 1] - off[i])
    cx = np.empty(longest, x.dtype)
    cy = np.empty(longest, y.dtype)
    for i in range(off.shape[0] - 1):
        _metrics_row(op, x, y, off[i], off[i + 1], sg[i, 2], sg[i, 3], costs[i],
                     plan_off[i + 1] - plan_off[i], out, i, cx, cy)


@njit(cache=True, nogil=True)
def _trace_metrics_folded(byte_off, data, longest, sg, costs, plan_off, out):
    """:func:`trace_metrics` of folded values, each row decoded into scratch arrays that stay
    in cache."""
    longest = max(longest, 1)
    op = np.empty(longest, np.int8)
    x = np.empty(longest, np.int16)
    y = np.empty(longest, np.int16)
    cx = np.empty(longest, np.int16)
    cy = np.empty(longest, np.int16)
    for i in range(byte_off.shape[0] - 1):
        n = 0
        p = byte_off[i]
        if byte_off[i + 1] > p:
            n = row_cells(data, p, op, x, y)
        _metrics_row(op, x, y, 0, n, sg[i, 2], sg[i, 3], costs[i],
                     plan_off[i + 1] - plan_off[i], out, i, cx, cy)


def batch_metrics(batch: TraceBatch) -> np.ndarray:
    """``(n, len(TRACE_METRICS))`` int64 metrics of a resolved batch's traces."""
    out = np.empty((len(batch), len(TRACE_METRICS)), dtype=np.int64)
    traces = batch.traces
    if traces.is_folded and not traces.has_fields("op", "x", "y"):
        byte_off, data = traces.folded
        _trace_metrics_folded(byte_off, data, longest_row(byte_off, data), batch.sg(),
                              batch.costs, batch.plan_off, out)
    else:
        trace_metrics(batch.off, batch.op, batch.x, batch.y, batch.sg(), batch.costs,
                      batch.plan_off, out)
    return out


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column read as dictionary arrays (:func:`mazebench.ops.dataset.source_batches`) back
    as its values' type, the type the dataset's schema has."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def table_from_batch(batch: TraceBatch, ops_spec: str, column_order: list[str],
                     extra_columns: list[str]) -> pa.Table:
    """The dataset table of a batch: ``column_order`` (the source columns) with new trace,
    plan and metric columns, then the provenance columns (``extra_columns`` in order)."""
    batch = batch.resolved()
    n = len(batch)
    new: dict[str, pa.Array] = {}
    new["trace"] = batch.traces.column()
    new["plan"] = (pack_records(batch.plan_off, batch.plan) if batch.plan_column is None
                   else batch.plan_column)
    metrics = batch_metrics(batch)
    for j, name in enumerate(TRACE_METRICS):
        new[name] = pa.array(metrics[:, j].astype(np.int32))
    if "ops" in batch.table.column_names and n:
        previous = pc.unique(batch.table.column("ops")).to_pylist()
        if len(previous) != 1:
            raise ValueError("rows of one table carry different operator chains")
        ops_spec = f"{previous[0]}|{ops_spec}" if previous[0] else ops_spec
    new["ops"] = repeated_string(ops_spec, n)
    for name in ("swap_source", "tail_events", "removed_events"):
        if name in batch.extra:
            new[name] = pa.array(np.asarray(batch.extra[name]), type=PROVENANCE[name])
    if "dualformer_level" in batch.extra:
        new["dualformer_level"] = pa.array(DUALFORMER_LEVELS).take(
            pa.array(np.asarray(batch.extra["dualformer_level"], dtype=np.int64)))
    if "trace_costs" in extra_columns:
        new["trace_costs"] = pa.array(np.asarray(batch.costs, dtype=np.bool_))
    if batch.anchors:
        from .anchors import anchor_labels_batch

        labels = anchor_labels_batch(batch)
        new["trace_anchor"] = pack(batch.off, LABEL_DTYPE, labels)
    columns, names = [], []
    for name in column_order:
        if name in new:
            columns.append(new[name])
        elif name in batch.table.column_names:
            columns.append(_plain(batch.table.column(name)))
        else:
            continue
        names.append(name)
    for name in extra_columns:
        if name in names:
            continue
        if name in new:
            columns.append(new[name])
        elif name in batch.table.column_names:
            columns.append(_plain(batch.table.column(name)))
        else:
            raise ValueError(f"provenance column {name!r} was not produced")
        names.append(name)
    return pa.Table.from_arrays(columns, names=names)
