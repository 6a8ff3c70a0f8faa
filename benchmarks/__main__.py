"""`python -m benchmarks [--quick] [--write] [--only NAME …]`: run every benchmark, one after
the other (never two at once: they would measure each other), print their tables and, with
`--write`, update each one's section of BENCHMARKS.md plus the machine section on top.

Each benchmark module keeps its own `main(argv)` (runnable alone as
`python -m benchmarks.<name>`); this runner only chooses the arguments: the documented
defaults, or with `--quick` small sizes that finish in about a minute in all (CI-sized
numbers, marked as such). Exit status: 0 when every benchmark ran, else 1 (each failure is
named in one line).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bot"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

OUTPUT = ROOT / "BENCHMARKS.md"
MARK_BEGIN = "<!-- machine:begin -->"
MARK_END = "<!-- machine:end -->"

# name → (full arguments, --quick arguments); `--write FILE` is appended when asked.
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "slack_ack": (["--users", "16", "--seconds", "10"], ["--seconds", "4", "--rounds", "1"]),
    "load": (
        ["--users", "16", "--generators", "4", "--seconds", "10"],
        ["--users", "8", "--generators", "2", "--seconds", "4"],
    ),
    "digest_bench": (
        [],
        ["--reviews", "20000", "--reps", "200", "--managers", "20"],
    ),
    "insights_bench": (
        [],
        ["--reviews", "20000", "--reps", "200", "--managers", "20"],
    ),
}


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        memory = "RAM unknown"
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def write_machine(path: Path, quick: bool, ran: list[str], failed: list[str]) -> None:
    size = "`--quick` (CI-sized, not for comparison)" if quick else "full size"
    lines = [
        MARK_BEGIN,
        f"Last `python -m benchmarks{' --quick' if quick else ''} --write`: "
        f"{time.strftime('%Y-%m-%d %H:%M')}, {size}, on {machine()}; "
        f"load average {os.getloadavg()[0]:.1f} when it finished. "
        f"Ran: {', '.join(ran) or 'none'}"
        + (f"; failed or missed its goal: {', '.join(failed)}" if failed else "")
        + ". Every table below also states the machine it ran on.",
        MARK_END,
        "",
        "",
    ]
    block = "\n".join(lines)
    old = path.read_text("utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(MARK_BEGIN) + r".*?" + re.escape(MARK_END) + r"\n?\n?", re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: block, old)
    else:
        head, sep, rest = old.partition("\n\n")
        new = f"{head}\n\n{block}{rest}" if sep else f"{old.rstrip()}\n\n{block}"
    path.write_text(new, "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--write", action="store_true", help=f"update {OUTPUT.name}")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run just these benchmarks"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    if args.list:
        for name in BENCHMARKS:
            print(f"python -m benchmarks.{name}")
        return 0
    ran: list[str] = []
    failed: list[str] = []
    for name in names:
        full, quick = BENCHMARKS[name]
        bench_args = list(quick if args.quick else full)
        if args.write:
            bench_args += ["--write", str(OUTPUT)]
        print(f"\n=== {name}: python -m benchmarks.{name} {' '.join(bench_args)}", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            status = module.main(bench_args)
        except Exception as exc:  # one benchmark failing does not stop the others
            print(f"benchmarks.{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        (ran if not status else failed).append(name)
    if args.write:
        write_machine(OUTPUT, args.quick, ran, failed)
        print(f"\nwrote {OUTPUT}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
