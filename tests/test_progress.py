"""The progress bar every long command shares."""

from __future__ import annotations

from mazebench.progress import Progress


def test_disabled_bar_is_silent(capsys):
    with Progress(10, "x", enabled=False) as bar:
        bar.update(4)
        assert bar.bar is None
    assert capsys.readouterr().err == ""


def test_enabled_bar_counts_on_stderr_and_closes_once(capsys):
    bar = Progress(10, "rows", enabled=True)
    bar.update(4)
    bar.update(6)
    assert bar.bar.n == 10
    bar.close()
    bar.close()
    err = capsys.readouterr().err
    assert "rows" in err and "/10" in err  # leave=False: the bar erases itself at the end
