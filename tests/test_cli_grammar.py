"""One CLI grammar across ``edgeae`` and ``edgeae-rt``.

Walks every command of both command lines (the host's nested ``data`` group and
the runtime commands it mounts included), reads each ``--help`` and each
option's declaration, and checks that a flag shared by several commands is the
same option everywhere: the same help text and the same type with the same
bounds. Also: every output is ``-o/--output``, every model ``-m/--model``,
every ``--help`` ends with the exit-code table, and the old spellings still work
for one release with one deprecation line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from edgeae.cli import main as host
from edgeae_runtime.cli import main as rt
from edgeae_runtime.clitools import (
    CPU_COUNT,
    AliasOption,
    BoundedFloat,
    Command,
    CommandGroup,
    IntList,
)
from tests.runtime.onnx_models import make_autoencoder

#: Flags declared once and used by several commands: each must read the same everywhere.
SHARED = (
    "--model",
    "--output",
    "--threads",
    "--force",
    "--json",
    "--chunk-ms",
    "--batch",
    "--max-drop",
    "--format",
    "--rate",
    "--channels",
    "--key",
    "--window",
    "--hop",
    "--budget",
    "--seconds",
    "--no-memory",
)


def _walk(
    group: click.Group, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*path, name))
        else:
            yield (*path, name), cmd


COMMANDS = [("edgeae", p, c) for p, c in _walk(host, ())] + [
    ("edgeae-rt", p, c) for p, c in _walk(rt, ())
]


def _long(opt: click.Option) -> str:
    opts = opt.visible_opts() if isinstance(opt, AliasOption) else opt.opts
    return max(opts, key=len)


def _type_key(param: click.Parameter) -> str:
    """The type's kind and bounds as text; a repeatable list of ints counts as ints.

    ``bench --threads 1,2`` (repeatable) and ``denoise --threads 2`` must have the
    same bounds; that one repeats is the only difference allowed.
    """
    t = param.type
    if isinstance(t, click.Choice):
        return f"Choice{tuple(t.choices)}"
    if isinstance(t, IntList):
        return f"int[{t.low}..{t.high}]"
    if isinstance(t, click.types._NumberRangeBase):
        if isinstance(t, click.IntRange) and not (t.min_open or t.max_open):
            return f"int[{t.min}..{t.max}]"
        return f"{type(t).__name__}({t.min}, {t.max}, {t.min_open}, {t.max_open})"
    if isinstance(t, BoundedFloat):
        return repr(t)
    return type(t).__name__


def test_the_walk_finds_both_command_lines() -> None:
    names = {(cli, " ".join(p)) for cli, p, _ in COMMANDS}
    assert {("edgeae", "train"), ("edgeae", "data info"), ("edgeae", "denoise")} <= names
    assert {("edgeae-rt", "bench"), ("edgeae-rt", "compress"), ("edgeae-rt", "info")} <= names


@pytest.mark.parametrize(("cli", "path", "cmd"), COMMANDS, ids=lambda v: str(v))
def test_every_help_has_examples_and_the_exit_codes(cli: str, path, cmd) -> None:
    group = host if cli == "edgeae" else rt
    result = CliRunner().invoke(group, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"{cli} {' '.join(path)}: no example"
    assert "Exit codes:" in result.output and "4  I/O failure" in result.output
    assert isinstance(cmd, Command), f"{cli} {' '.join(path)} is not a clitools.Command"


@pytest.mark.parametrize("group", [host, rt], ids=["edgeae", "edgeae-rt"])
def test_group_help_has_the_exit_codes(group: CommandGroup) -> None:
    assert "Exit codes:" in CliRunner().invoke(group, ["--help"]).output


def test_shared_options_are_identical_everywhere() -> None:
    seen: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for cli, path, cmd in COMMANDS:
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden:
                seen[_long(p)][(p.help or "", _type_key(p))].append(f"{cli} {' '.join(path)}")
    for flag in SHARED:
        assert flag in seen, flag
        variants = seen[flag]
        assert len(variants) == 1, f"{flag} differs between commands: {dict(variants)}"
    assert len(seen["--model"][next(iter(seen["--model"]))]) >= 10  # every model-taking verb


def test_threads_is_bounded_by_the_core_count_everywhere() -> None:
    for cli, path, cmd in COMMANDS:
        for p in cmd.params:
            if isinstance(p, click.Option) and "--threads" in p.opts:
                assert "1 to the core count" in (p.help or ""), (cli, path)
                low, high = getattr(p.type, "min", None), getattr(p.type, "max", None)
                low = getattr(p.type, "low", low)
                high = getattr(p.type, "high", high)
                assert (low, high) == (1, CPU_COUNT), (cli, path, p.type)


def test_short_flags_mean_one_thing() -> None:
    """``-o`` is always ``--output``, ``-m`` always ``--model``; no visible ``--out``."""
    for cli, path, cmd in COMMANDS:
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            visible = p.visible_opts() if isinstance(p, AliasOption) else p.opts
            if "-o" in visible:
                assert "--output" in visible, (cli, path)
            if "-m" in visible:
                assert "--model" in visible, (cli, path)
            assert "--out" not in visible and "--report" not in visible, (cli, path)


def test_both_benches_have_one_signature() -> None:
    host_bench = host.get_command(click.Context(host), "bench")
    rt_bench = rt.get_command(click.Context(rt), "bench")
    assert host_bench is not rt_bench  # the host adds a fresh-process footprint table

    from edgeae.commands.bench import HOST_ONLY_OPTIONS

    def visible(cmd: click.Command) -> list[tuple[str, str, str]]:
        return [
            (_long(p), p.help or "", _type_key(p))
            for p in cmd.params
            if isinstance(p, click.Option) and not p.hidden and _long(p) not in HOST_ONLY_OPTIONS
        ]

    assert visible(host_bench) == visible(rt_bench)


# --- the transition: old spellings work for one release, with one warning line ---------------


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_autoencoder(tmp_path_factory.mktemp("grammar") / "model.onnx", kind="conv1d")


def _warnings(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("warning: ")]


def test_old_positional_model_still_works_with_one_warning(model: Path) -> None:
    old = CliRunner().invoke(rt, ["info", str(model)])
    new = CliRunner().invoke(rt, ["info", "-m", str(model)])
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout
    (line,) = _warnings(old)
    assert "positional MODEL is deprecated" in line and "-m/--model" in line
    assert _warnings(new) == []


def test_old_positional_output_still_works_with_one_warning(model: Path, tmp_path: Path) -> None:
    import numpy as np

    from edgeae_runtime.audio import write_wav

    write_wav(tmp_path / "in.wav", np.zeros((1, 500), np.float32), 16000, "FLOAT")
    old = CliRunner().invoke(rt, ["denoise", "-m", str(model), str(tmp_path / "in.wav"),
                                  str(tmp_path / "a.wav")])  # fmt: skip
    assert old.exit_code == 0, old.output and (tmp_path / "a.wav").exists()
    (line,) = _warnings(old)
    assert "positional OUT" in line and "-o/--output" in line
    b, c = str(tmp_path / "b.wav"), str(tmp_path / "c.wav")
    both = CliRunner().invoke(
        rt, ["denoise", "-m", str(model), str(tmp_path / "in.wav"), b, "-o", c]
    )
    assert both.exit_code == 2 and "given twice" in both.stderr
    assert not (tmp_path / "b.wav").exists() and not (tmp_path / "c.wav").exists()
    missing = CliRunner().invoke(rt, ["denoise", "-m", str(model), str(tmp_path / "in.wav")])
    assert missing.exit_code == 2 and "--output" in missing.stderr


def test_old_option_spelling_is_hidden_and_warns(tmp_path: Path) -> None:
    help_text = CliRunner().invoke(host, ["export", "--help"]).output
    assert "--out " not in help_text and "-o, --output" in help_text
    result = CliRunner().invoke(host, ["export", str(tmp_path / "nope"), "--out", str(tmp_path)])
    (line,) = _warnings(result)
    assert line.startswith("warning: --out is deprecated") and "-o/--output" in line
    assert result.exit_code == 3 and "no checkpoint here" in result.stderr  # --out was taken


def test_one_line_for_a_click_usage_error(model: Path) -> None:
    result = CliRunner().invoke(rt, ["denoise", "-m", str(model), "-", "-o", "-", "--nope"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


@pytest.mark.parametrize(
    ("group", "args"),
    [(rt, ["--bogus"]), (rt, ["nosuch"]), (host, ["data", "--bogus"]), (host, ["nosuch"])],
)
def test_one_line_for_a_group_usage_error(group: CommandGroup, args: list[str]) -> None:
    result = CliRunner().invoke(group, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
