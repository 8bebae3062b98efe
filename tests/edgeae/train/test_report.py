"""The progress display: a bar on a terminal, plain epoch lines anywhere else."""

from __future__ import annotations

import io

from edgeae.train.report import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_is_drawn_only_on_a_terminal() -> None:
    tty, log = _Terminal(), io.StringIO()
    for stream in (tty, log):
        p = Progress(stream=stream)
        p.step(1, 2, 4, 4, 0.5)
        p.line("epoch 1/2 done")
    assert "\r" in tty.getvalue() and "[" in tty.getvalue()
    assert log.getvalue() == "epoch 1/2 done\n"


def test_disabled_progress_prints_nothing() -> None:
    out = _Terminal()
    p = Progress(enabled=False, stream=out)
    p.step(1, 1, 1, 1, 0.1)
    p.line("x")
    assert out.getvalue() == ""
