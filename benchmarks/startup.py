"""How long the command line takes to start, next to the libraries it cannot do without.

Every command pays the command line's imports before it does anything. The floor is
`import typer, rich, sqlalchemy, pydantic`; `mentionwatch --help` and `mentionwatch
mentions search` (on an empty SQLite store) should cost about that, not the seconds
that torch, transformers, matplotlib and Scrapy take to import.

Each command runs in a fresh interpreter, interleaved, `--repeat` times; the table shows
the median and the fastest wall-clock time. `--compare-with REF` also runs the commands
on the code of a git revision (exported to a temporary folder and put first on
PYTHONPATH), so "before" and "after" are measured in the same run on the same machine:

    python -m benchmarks.startup --compare-with main
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The console script's body: the same imports as `mentionwatch ...`, wherever the code comes from.
CLI = "import sys; from mentionwatch.cli import app; sys.exit(app(prog_name='mentionwatch'))"
COMMANDS: dict[str, list[str]] = {
    "import typer, rich, sqlalchemy, pydantic": ["-c", "import typer, rich, sqlalchemy, pydantic"],
    "mentionwatch --help": ["-c", CLI, "--help"],
    "mentionwatch mentions search ''": ["-c", CLI, "mentions", "search", ""],
}


@contextmanager
def exported(ref: str) -> Iterator[Path]:
    """The tree of git revision `ref` in a temporary folder."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="mentionwatch-startup-") as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder)


def seconds(args: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run; CPU time varies less on a busy machine."""
    # `cwd` holds no code: `python -c` puts it first on sys.path, before PYTHONPATH.
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run([sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(args[2:]) or args[1]} failed ({env.get('PYTHONPATH')}):\n{run.stderr.decode()[-2000:]}")
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--compare-with", metavar="REF", help="also time the code of this git revision")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mentionwatch-startup-db-") as db_folder, (
        exported(args.compare_with) if args.compare_with else nullcontext()
    ) as other_tree:
        folder = Path(db_folder)
        code = {"this tree": ROOT} if other_tree is None else {args.compare_with: other_tree, "this tree": ROOT}
        # A store per tree: each migrates it to its own newest schema.
        trees = {
            tree: {**os.environ, "PYTHONPATH": str(path), "MENTIONWATCH_DATABASE_URL": f"sqlite:///{folder / f'{i}.db'}"}
            for i, (tree, path) in enumerate(code.items())
        }
        for tree_env in trees.values():  # migrate the store once, untimed
            seconds(COMMANDS["mentionwatch mentions search ''"], tree_env, folder)
        times: dict[tuple[str, str], list[tuple[float, float]]] = {(c, t): [] for c in COMMANDS for t in trees}
        for _ in range(args.repeat):
            for command, command_args in COMMANDS.items():
                for tree, tree_env in trees.items():
                    times[command, tree].append(seconds(command_args, tree_env, folder))

    header = f"{'command':<40} " + " ".join(f"{tree + ': wall median / min, CPU median (s)':>44}" for tree in trees)
    print(f"{args.repeat} runs each, fresh interpreters, interleaved")
    print(header)
    print("-" * len(header))
    for command in COMMANDS:
        cells = []
        for tree in trees:
            walls, cpus = zip(*times[command, tree], strict=True)
            cells.append(f"{statistics.median(walls):>26.2f} / {min(walls):5.2f}, {statistics.median(cpus):8.2f}")
        print(f"{command:<40} " + " ".join(cells))


if __name__ == "__main__":
    main()
