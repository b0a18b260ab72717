"""The harness tells uvicorn's workers from multiprocessing's other children.

CI failed twice on `test_killing_a_worker_mid_burst` with "a replacement worker: not within
180 s": the harness read the children with ``ps``, which cut each command line to 80 columns
on the runner (a longer checkout path), so the resource tracker's line lost the word
"resource_tracker", was listed as worker 0 and was the process killed; nothing replaces it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from loadtests.services import DrtServer, child_processes

PARENT = textwrap.dedent(
    """
    import multiprocessing, sys, time

    def work():
        time.sleep(120)

    if __name__ == "__main__":
        child = multiprocessing.get_context("spawn").Process(target=work)
        child.start()  # also starts the resource tracker, as under uvicorn
        print(child.pid, flush=True)
        time.sleep(120)
    """
)


def test_workers_are_found_whatever_the_terminal_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    monkeypatch.setenv("COLUMNS", "60")  # as narrow as a CI runner's cut lines
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while len(child_processes(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = dict(child_processes(parent.pid))
        assert any("resource_tracker" in args for args in children.values()), children
        server = DrtServer(env={}, log_path=tmp_path / "log", workers=1)
        server.proc = parent  # type: ignore[assignment]
        assert server.worker_pids() == [worker]
    finally:
        parent.kill()
        parent.wait(10)
