"""The traces of a batch of rows, held as folded values, as records, or both.

A dataset shard's ``trace`` column arrives as folded byte planes
(:mod:`mazebench.datasets.folded`). :class:`Traces` keeps them as they are and decodes only what
an operator asks for: one field (``op``, ``x``, ...) as a contiguous array, or every record.
Operators that keep, drop or move whole events (``swap``, the cuts, ``dualformer``) edit the
folded values directly, so a shard that goes through them is never rebuilt into records and
re-encoded; operators that rewrite fields (``perturb``, ``shuffle``, ...) work on records, which
are encoded again when the table is written. Every instance is immutable: an edit returns a new
one, and what was decoded is cached on the instance it describes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..datasets import folded as fk
from ..datasets.packed import (
    TRACE_DTYPE,
    binary_column,
    fields_of,
    fold_records,
    pack_records,
    record_offsets,
)
from ..datasets.planes import planes_to_records

_SIZE = TRACE_DTYPE.itemsize
_OP, _X, _Y, _G = (TRACE_DTYPE.fields[f][1] for f in ("op", "x", "y", "g"))  # byte positions


@njit(cache=True, nogil=True, inline="always")
def row_cells(data, p, op, x, y):
    """Decode ``op``, ``x``, ``y`` of the non-empty folded trace value at ``data[p]`` into the
    scratch arrays of a row kernel (they stay in cache); returns its event count."""
    n = fk.row_field(data, p, _SIZE, _OP, 1, op, 0)
    fk.row_field(data, p, _SIZE, _X, 2, x, 0)
    fk.row_field(data, p, _SIZE, _Y, 2, y, 0)
    return n


@njit(cache=True, nogil=True, inline="always")
def row_g(data, p, g):
    """Decode ``g`` of the folded trace value at ``data[p]`` into ``g``."""
    fk.row_field(data, p, _SIZE, _G, 4, g, 0)


def _ro(a: np.ndarray, dtype=None) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=dtype)
    v = a.view()
    v.flags.writeable = False
    return v


class Traces:
    """Row offsets ``off`` (int64, events) and the events of every row.

    ``folded`` is ``(byte_off, data)``: row ``i``'s value is ``data[byte_off[i]:byte_off[i + 1]]``
    (absolute positions, so slices share ``data``); ``records`` a contiguous array of
    :data:`~mazebench.datasets.packed.TRACE_DTYPE` with row ``i`` at ``off[i]:off[i + 1]``;
    ``parts`` folded values held apart, each ``(starts, ends, data)`` with its row ``r`` at
    ``data[starts[r]:ends[r]]`` (:meth:`from_ranges`: values left where the Parquet pages of
    a memory-mapped shard hold them; :meth:`concat`). At least one is given; the other forms
    are derived on first use.
    """

    __slots__ = ("off", "_folded", "_records", "_fields", "_parts", "_part_lookup")

    def __init__(self, off: np.ndarray, *, folded: tuple[np.ndarray, np.ndarray] | None = None,
                 records: np.ndarray | None = None, parts: list[tuple] | None = None) -> None:
        if folded is None and records is None and not parts:
            raise ValueError("Traces needs folded values, records or parts")
        self.off = _ro(off, np.int64)
        self._folded = None if folded is None else (_ro(folded[0], np.int64), _ro(folded[1]))
        self._records = None if records is None else _ro(records)
        self._fields: dict[str, np.ndarray] = {}
        # folded parts kept apart (a split read shard by shard): rows are taken from them as
        # they are and hashed where they are, anything else joins them first
        self._parts = list(parts) if parts else None
        self._part_lookup = None

    @classmethod
    def from_ranges(cls, starts: np.ndarray, ends: np.ndarray, data: np.ndarray,
                    name: str = "trace") -> Traces:
        """Traces whose row ``r`` is the folded value ``data[starts[r]:ends[r]]`` (left in
        place, e.g. in a memory-mapped shard); a malformed value raises ``ValueError``
        naming the row."""
        starts, ends = _ro(starts, np.int64), _ro(ends, np.int64)
        off = record_offsets(starts, ends, data, TRACE_DTYPE, name)
        return cls(off, parts=[(starts, ends, _ro(data))])

    def __len__(self) -> int:
        return self.off.shape[0] - 1

    @property
    def is_folded(self) -> bool:
        """True when the folded values are at hand (edits then stay folded)."""
        return self._folded is not None or bool(self._parts)

    def _join(self) -> None:
        """Copy the parts into one buffer (the first operation other than a take does)."""
        if self._parts:
            self._folded = self._take_from_parts(np.arange(len(self), dtype=np.int64))
            self._parts = None

    def value_ranges(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The folded values as ``(starts, ends, data)`` parts, in row order, without joining
        parts (the trace hashes read them where they are)."""
        if self._parts:
            return list(self._parts)
        byte_off, data = self.folded
        return [(byte_off[:-1], byte_off[1:], data)]

    @property
    def records(self) -> np.ndarray:
        self._join()
        if self._records is None:
            byte_off, data = self._folded
            raw = np.empty(int(self.off[-1]) * _SIZE, dtype=np.uint8)
            planes = np.empty_like(raw)
            fk.unfold(byte_off, data, _SIZE, planes)
            planes_to_records(self.off * _SIZE, planes, raw, _SIZE)
            self._records = _ro(raw).view(TRACE_DTYPE)
        return self._records

    @property
    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(byte_off, data)`` of the folded values (encoded here from records if needed)."""
        self._join()
        if self._folded is None:
            byte_off, data = fold_records(self.off, self.records)
            self._folded = (_ro(byte_off), _ro(data))
        return self._folded

    def has_fields(self, *names: str) -> bool:
        """True when the fields ``names`` are decoded already (records or cached arrays)."""
        return self._records is not None or all(n in self._fields for n in names)

    def field(self, name: str) -> np.ndarray:
        """One trace field: a strided view of the records when they are decoded, else a
        contiguous array decoded from the folded planes (cached)."""
        if self._records is not None:
            return self._records[name]
        self._join()
        if name not in self._fields:
            byte_off, data = self._folded
            self._fields[name] = _ro(fields_of(self.off, byte_off, data, TRACE_DTYPE,
                                               (name,))[0])
        return self._fields[name]

    def column(self):
        """The ``trace`` column (folded values; records are encoded here when needed)."""
        if self.is_folded:
            return binary_column(*self.folded)
        return pack_records(self.off, self.records)

    # -- edits ---------------------------------------------------------------------------
    def slice(self, start: int, stop: int) -> Traces:
        self._join()
        e0 = int(self.off[start])
        off = self.off[start : stop + 1] - e0
        if self._folded is not None:
            byte_off, data = self._folded
            return Traces(off, folded=(byte_off[start : stop + 1], data))
        return Traces(off, records=self._records[e0 : int(self.off[stop])])

    def take(self, rows: np.ndarray) -> Traces:
        """Row ``i`` of the result is row ``rows[i]``."""
        rows = _ro(rows, np.int64)
        counts = np.diff(self.off)[rows]
        off = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=off[1:])
        if self._parts:
            return Traces(off, folded=self._take_from_parts(rows))
        if self._folded is not None:
            byte_off, data = self._folded
            lengths = (byte_off[1:] - byte_off[:-1])[rows]
            out = np.empty(int(lengths.sum()), dtype=np.uint8)
            out_off = np.empty(rows.shape[0] + 1, dtype=np.int64)
            fk.take_rows(byte_off, data, rows, out_off, out)
            return Traces(off, folded=(out_off, out))
        from .events import take_records

        new_off, raw = take_records(self.off, self.records.view(np.uint8), _SIZE, rows)
        return Traces(new_off, records=raw.view(TRACE_DTYPE))

    def _take_from_parts(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(byte_off, data)`` of the values of rows ``rows``, copied from the parts into
        one new buffer, one kernel call per part."""
        firsts, lengths = self._part_index()
        out_off = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths[rows], out=out_off[1:])
        out = np.empty(int(out_off[-1]), dtype=np.uint8)
        part_of = np.searchsorted(firsts, rows, side="right") - 1
        order = np.argsort(part_of, kind="stable")  # the rows grouped by part
        bounds = np.searchsorted(part_of[order], np.arange(len(self._parts) + 1))
        for k in np.flatnonzero(bounds[1:] > bounds[:-1]):
            chosen = order[bounds[k] : bounds[k + 1]]
            starts, ends, data = self._parts[k]
            fk.place_rows(starts, ends, data, _ro(rows[chosen] - firsts[k]),
                          _ro(out_off[chosen]), out)
        return _ro(out_off), _ro(out)

    def _part_index(self) -> tuple[np.ndarray, np.ndarray]:
        """The first row of every part and the value length of every row (built once: a
        swapped split takes from its parts a row group at a time)."""
        if self._part_lookup is None:
            firsts = np.cumsum([0] + [p[0].shape[0] for p in self._parts])
            lengths = np.concatenate([p[1] - p[0] for p in self._parts])
            self._part_lookup = (firsts, lengths)
        return self._part_lookup

    def keep_prefixes(self, keep: np.ndarray) -> Traces:
        """Row ``i`` keeps its first ``keep[i]`` events (clipped to its length)."""
        keep = _ro(keep, np.int64)
        self._join()
        if self._folded is not None:
            byte_off, data = self._folded
            n = np.minimum(np.maximum(keep, 0), np.diff(self.off))
            off = np.zeros(n.shape[0] + 1, dtype=np.int64)
            np.cumsum(n, out=off[1:])
            out = np.empty(int(byte_off[-1] - byte_off[0]), dtype=np.uint8)
            out_off = np.empty_like(off)
            end = fk.keep_prefixes(byte_off, data, _SIZE, keep, out_off, out)
            return Traces(off, folded=(out_off, out[:end]))
        from .events import keep_record_prefixes

        new_off, raw = keep_record_prefixes(self.off, self.records.view(np.uint8), _SIZE, keep)
        return Traces(new_off, records=raw.view(TRACE_DTYPE))

    def keep_events(self, keep: np.ndarray) -> Traces:
        """Keep the events with ``keep[e]`` True (``e`` counts the batch's events)."""
        keep = _ro(keep, np.bool_)
        self._join()
        if self._folded is not None:
            byte_off, data = self._folded
            off = np.empty_like(self.off)
            out = np.empty(int(byte_off[-1] - byte_off[0]), dtype=np.uint8)
            out_off = np.empty_like(off)
            end = fk.keep_selected(byte_off, data, _SIZE, self.off, keep, out_off, out, off)
            return Traces(off, folded=(out_off, out[:end]))
        from .events import compact_records

        new_off, raw = compact_records(self.off, self.records.view(np.uint8), _SIZE, keep)
        return Traces(new_off, records=raw.view(TRACE_DTYPE))

    def remove_events(self, start: np.ndarray, count: np.ndarray) -> Traces:
        """Remove ``count[i]`` events of row ``i`` from its position ``start[i]`` on (both
        within the row)."""
        from .events import remove_record_ranges

        self._join()
        if self._folded is not None:
            start = np.asarray(start, dtype=np.int64)
            count = np.asarray(count, dtype=np.int64)
            lengths = np.diff(self.off)
            if np.all((count == 0) | (start + count == lengths)):  # suffixes: cut-tail
                return self.keep_prefixes(np.where(count > 0, start, lengths))
            edges = np.zeros(int(self.off[-1]) + 1, dtype=np.int64)
            cut = count > 0
            np.add.at(edges, (self.off[:-1] + start)[cut], 1)
            np.add.at(edges, (self.off[:-1] + start + count)[cut], -1)
            return self.keep_events(np.cumsum(edges[:-1]) == 0)

        new_off, raw = remove_record_ranges(self.off, self.records.view(np.uint8), _SIZE,
                                            _ro(start, np.int64), _ro(count, np.int64))
        return Traces(new_off, records=raw.view(TRACE_DTYPE))

    @staticmethod
    def concat(parts: list[Traces]) -> Traces:
        """The rows of ``parts`` one after another. Folded parts stay apart until an operation
        other than :meth:`take` needs one buffer: ``swap`` gathers a split's traces straight
        from its shards (copying a 10^6-row split into one new buffer cost 4.4 s of page
        faults on this machine)."""
        counts = [np.diff(p.off) for p in parts]
        off = np.zeros(sum(c.shape[0] for c in counts) + 1, dtype=np.int64)
        if counts:
            np.cumsum(np.concatenate(counts), out=off[1:])
        if parts and all(p.is_folded for p in parts):
            return Traces(off, parts=[r for p in parts for r in p.value_ranges()])
        records = [p.records[int(p.off[0]) : int(p.off[-1])] for p in parts]
        return Traces(off, records=np.concatenate(records) if records else
                      np.empty(0, TRACE_DTYPE))
