"""Text of transformed examples, including traces written without cost tokens.

Dualformer's L2 and L3-paper levels (arXiv 2410.09918) write every ``create`` clause without its
two cost tokens: ``create X Y``. The event columns keep the true costs and the row's
``trace_costs`` flag says how to write them. :func:`example_text` writes such a trace in the
``beyond-semantics`` or ``searchformer`` dialect (:mod:`mazebench.conventions.dialects`) and
:func:`parse_example` reads it back; costs that the text does not carry parse as ``-1``.
"""

from __future__ import annotations

from ..conventions.dialects import Parsed, get_dialect

COSTLESS_DIALECTS = ("beyond-semantics", "searchformer")


def _check(dialect: str) -> None:
    get_dialect(dialect)
    if dialect not in COSTLESS_DIALECTS:
        raise ValueError(f"traces without cost tokens are written in {', '.join(COSTLESS_DIALECTS)}"
                         f" only, not {dialect!r}")


def drop_cost_tokens(text: str) -> str:
    """Remove the two ``c<int>`` tokens after every ``create X Y``."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        out.append(tokens[i])
        if (tokens[i] == "create" and i + 4 < len(tokens) and tokens[i + 3][:1] == "c"
                and tokens[i + 4][:1] == "c"):
            out += tokens[i + 1 : i + 3]
            i += 5
            continue
        i += 1
    return " ".join(out)


def restore_cost_tokens(text: str, value: int = -1) -> str:
    """Insert ``c<value> c<value>`` after every ``create X Y`` that lacks its costs."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        out.append(tokens[i])
        if tokens[i] == "create" and i + 2 < len(tokens):
            out += tokens[i + 1 : i + 3]
            i += 3
            if i >= len(tokens) or tokens[i][:1] != "c" or tokens[i] in ("close", "create"):
                out += [f"c{value}", f"c{value}"]
            continue
        i += 1
    return " ".join(out)


def example_text(problem, trace, plan, dialect: str = "searchformer", *, costs: bool = True) -> str:
    """The whole example in a dialect; ``costs=False`` writes creates as ``create X Y``."""
    text = get_dialect(dialect).text(problem, trace, plan)
    if costs:
        return text
    _check(dialect)
    return drop_cost_tokens(text)


def parse_example(text: str, dialect: str = "searchformer", *, costs: bool = True,
                  width: int = 30, height: int = 30) -> Parsed:
    """Parse :func:`example_text` output; with ``costs=False`` missing costs become -1."""
    if not costs:
        _check(dialect)
        text = restore_cost_tokens(text)
    return get_dialect(dialect).parse(text, width=width, height=height)
