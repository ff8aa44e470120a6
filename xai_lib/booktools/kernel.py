"""A Python kernel for grading: runs a submission's code with time limits, offline.

:class:`Kernel` starts a fresh kernel in a folder, outside the book build, and runs code with
a time limit: what overruns it is interrupted (KeyboardInterrupt in the student's code), and a
kernel that does not answer the interrupt, or dies, is reported as dead. :func:`offline`
comments out a cell's shell and install lines, so grading never reaches the network.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .._core import BOOK_BUILD_ENV

#: Lines not run when grading: shell commands and package installs.
_SHELL = re.compile(r"^(\s*)(!|%pip\b|%conda\b|%system\b|%sx\b|%%bash|%%sh|%%script)")


def offline(source: str) -> str:
    """A cell with its shell and install lines commented out."""
    if _SHELL.match(source.lstrip("\n")) and source.lstrip().startswith("%%"):
        return "\n".join(
            "# (not run when grading) " + line for line in source.split("\n")
        )
    return "\n".join(
        _SHELL.sub(r"\1# (not run when grading) \2", line)
        for line in source.split("\n")
    )


@dataclass
class Outcome:
    stdout: str = ""
    error: str = ""  # "NameError: name 'x' is not defined"
    timed_out: bool = False
    dead: bool = False  # the kernel died or stopped answering


class Kernel:
    """A Python kernel that runs code with a time limit, interrupting what overruns it."""

    def __init__(self, cwd: Path):
        self.cwd = cwd

    async def __aenter__(self) -> Kernel:
        from jupyter_client import AsyncKernelManager

        env = {k: v for k, v in os.environ.items() if k != BOOK_BUILD_ENV}
        env.update(MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
        self.km = AsyncKernelManager(kernel_name="python3")
        quiet = (
            subprocess.DEVNULL
        )  # the kernel's own log lines are not the student's output
        await self.km.start_kernel(
            cwd=str(self.cwd), env=env, stdout=quiet, stderr=quiet
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=120)
        return self

    async def __aexit__(self, *exc) -> None:
        self.kc.stop_channels()
        await self.km.shutdown_kernel(now=True)

    async def run(self, code: str, timeout: float) -> Outcome:
        outcome = Outcome()
        if timeout <= 0:
            outcome.timed_out = True
            return outcome
        msg_id = self.kc.execute(
            code, store_history=False, allow_stdin=False, stop_on_error=False
        )
        loop = asyncio.get_running_loop()
        deadline, interrupted = loop.time() + timeout, False
        while True:
            left = deadline - loop.time()
            if left <= 0:
                if interrupted:  # the interrupt did not help: the kernel is stuck
                    outcome.dead = True
                    return outcome
                await self.km.interrupt_kernel()
                outcome.timed_out, interrupted = True, True
                deadline = loop.time() + 15
                continue
            try:
                msg = await self.kc.get_iopub_msg(timeout=min(left, 2.0))
            except Exception:  # queue.Empty: nothing yet; is the kernel still there?
                if not await self.km.is_alive():
                    outcome.dead = True
                    return outcome
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and content.get("name") == "stdout":
                outcome.stdout += content.get("text", "")
            elif kind == "error":
                outcome.error = f"{content.get('ename')}: {content.get('evalue')}"
            elif kind == "status" and content.get("execution_state") == "idle":
                return outcome
