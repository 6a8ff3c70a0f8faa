"""`dealcoach chat --answers FILE` with hostile files: exit 2 and one line on stderr, or a
valid review (exit 0, JSON with an assessment) — never a traceback. Property-based, run
in-process through `dealcoach.cli.main` so many files fit in a few seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from tests.hostile.test_http_hostile import PIECES

from dealcoach.cli import main

GOOD: dict[str, Any] = {
    "deal.name": "Acme CRM",
    "deal.stage": "proposal",
    "fit.requirements_met": "yes",
    "fit.price_market_conform": "yes",
    "agenda.1.who": "Anna",
    "agenda.1.role": "economic_buyer",
    "agenda.1.certainty": "confirmed",
    "benefit.customer_ready": "yes",
    "benefit.margin": "healthy",
}

hostile_text = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=30)), min_size=1, max_size=4
).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def run_chat(
    tmp_path: Path,
    content: bytes,
    suffix: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> tuple[int, str, str]:
    path = tmp_path / f"answers{suffix}"
    path.write_bytes(content)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'dealcoach.db'}")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["chat", "--answers", str(path), "--json", "--user", "U0HOSTILE"])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return int(code) if isinstance(code, int) else 1, out, err


def check_outcome(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out
    if code == 0:
        body = json.loads(out)
        assert body["assessment"]["recommendation"] in (
            "pursue",
            "strengthen",
            "renegotiate",
            "walk_away",
        )
        assert isinstance(body["advice"], str)
    else:
        assert code == 2, (code, err)
        assert len(err.strip().splitlines()) == 1, err[:500]


SETTINGS = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    field=st.sampled_from([*sorted(GOOD), "fit.need", "agenda.1.translation"]), value=json_values
)
def test_any_value_in_any_field_is_a_review_or_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, field: str, value: Any
) -> None:
    content = json.dumps({**GOOD, field: value}, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    check_outcome(*run_chat(tmp_path, content, ".json", capsys, monkeypatch))


@SETTINGS
@given(raw=st.binary(max_size=300) | hostile_text.map(lambda t: t.encode("utf-8", "surrogatepass")))
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_garbage_files_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, suffix: str, raw: bytes
) -> None:
    check_outcome(*run_chat(tmp_path, raw, suffix, capsys, monkeypatch))


@pytest.mark.parametrize(
    "content",
    [
        b"a: &a [*a, *a, *a, *a]\n",  # self-referencing YAML anchor
        b"!!python/object/apply:os.system ['echo pwned']\n",  # unsafe YAML tag
        b"[" * 100_000,  # deep nesting (regression: RecursionError traceback)
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,  # deep JSON-in-YAML mapping
        b'{"deal.name": "' + b"x" * 200_000 + b'"}',  # oversized answer
        b'{"deal.name": "a\\u0000b"}',  # NUL byte
        b"\xff\xfe\x00\x00",  # not UTF-8
        b'{"deal.name": "{{ 7*7 }}", "agenda.1.who": "<!channel>"}',
    ],
)
def test_known_hostile_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, content: bytes
) -> None:
    code, out, err = run_chat(tmp_path, content, ".yaml", capsys, monkeypatch)
    check_outcome(code, out, err)
    assert "pwned" not in out + err
    if code == 0:
        assert "{{ 7*7 }}" in out and "49" not in json.loads(out)["advice"]


@pytest.mark.parametrize("key", ["a\nb", "a\x85b", "a\rb", "a\u2028b", "a\x1b[31mred"])
def test_a_key_with_line_breaks_is_still_one_escaped_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, key: str
) -> None:
    """Regression: a nested key holding a line break (here NEL, found by hypothesis) was
    echoed raw into 'unknown question id', splitting the one-line error in two."""
    content = json.dumps({**GOOD, "agenda.1.certainty": {key: None}}).encode()
    code, _out, err = run_chat(tmp_path, content, ".json", capsys, monkeypatch)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "\x1b" not in err  # no raw escape sequence reaches the terminal


# --- issue #11 item 12: bounded reads, no file content in the error --------------------------


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, 1024 * 1024 * 1024))


def test_dev_zero_is_one_bounded_read_then_one_line(tmp_path: Path) -> None:
    """Regression: `chat --answers /dev/zero` read 7.2 GB in 20 s (here the child is capped at
    1 GiB of address space, so the old unbounded read dies instead of eating the machine)."""
    code, err, seconds = _chat_process(tmp_path, "/dev/zero", timeout=30)
    assert code == 2, (code, err[-1000:])
    assert seconds < 30
    assert err.strip().splitlines() == [
        "dealcoach: /dev/zero: larger than 1 MiB; not an answers file"
    ]


def test_a_file_over_one_mib_is_refused_unparsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    content = b"deal.name: Acme\n" + b"# padding\n" * (110 * 1024)
    code, _out, err = run_chat(tmp_path, content, ".yaml", capsys, monkeypatch)
    assert code == 2
    assert "larger than 1 MiB" in err and len(err.strip().splitlines()) == 1


PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "backup: x:34:34:backup:/var/backups:/usr/sbin/nologin-SECRETLINE\n"
)


@pytest.mark.parametrize(
    ("content", "suffix"),
    [
        (PASSWD, ".yaml"),
        (PASSWD, ".json"),
        # a foreign mapping: many keys, values that must not be shown
        ("".join(f"user{i}: hunter2-SECRETLINE-{i}\n" for i in range(200)), ".yaml"),
        # a real question id with a value from elsewhere
        ('deal.name: Acme\ndeal.stage: "x:0:0:SECRETLINE"\n', ".yaml"),
        ('{"deal.name": "Acme", "deal.value": "SECRETLINE"}', ".json"),
        # parser complaints that quote the file (a tag, an alias)
        ("deal.name: !<SECRETLINE:x:0:0> 1\n", ".yaml"),
        ("deal.name: *SECRETLINE\n", ".yaml"),
        ('deal.name: "\\qSECRETLINE"\n', ".yaml"),
    ],
)
def test_a_foreign_file_is_not_echoed_beyond_the_offending_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
    content: str,
    suffix: str,
) -> None:
    code, _out, err = run_chat(tmp_path, content.encode(), suffix, capsys, monkeypatch)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "SECRETLINE" not in err and "hunter2" not in err and "/bin/bash" not in err, err
    assert len(err) < 600, err


CHAT = ["-c", "from dealcoach.cli import main; main()", "chat"]


def _chat_process(tmp_path: Path, answers: str, timeout: float) -> tuple[int, str, float]:
    """`dealcoach chat --answers FILE --json` in a child process (1 GiB of address space at
    most), killed after `timeout` seconds (then the exit status is -9)."""
    import os
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEALCOACH_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'dealcoach.db'}"
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, *CHAT, "--answers", answers, "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=timeout,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        return -9, "", time.monotonic() - started
    return done.returncode, done.stderr, time.monotonic() - started


def test_yaml_aliases_cannot_blow_a_small_file_up(tmp_path: Path) -> None:
    """A 1 kB file whose aliases make 10^10 answers: refused at once, not flattened."""
    lines = ["a0: &a0 {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8, r: 9, q: 10}"]
    for level in range(1, 10):
        refs = ", ".join(f"k{i}: *a{level - 1}" for i in range(10))
        lines.append(f"a{level}: &a{level} {{{refs}}}")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")
    code, err, seconds = _chat_process(tmp_path, str(path), timeout=30)
    assert code == 2, (code, err[-500:])
    assert seconds < 30 and "not an answers file" in err
