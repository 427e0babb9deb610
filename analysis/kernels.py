"""The Jupyter kernel the study's notebooks run on: IPC transport, not TCP.

jupyter_client starts kernels on TCP ports of localhost by default, and ipykernel (7.x) then warns
"Kernel is running over TCP without encryption". The study's executions (``make book``,
``notebooks execute``, the papermill tests) talk to a kernel on the same machine, so they use
Unix-domain sockets (IPC transport) in a private temporary folder instead: no port is opened, and
the warning's cause is gone rather than filtered. Windows has no IPC transport; it keeps TCP.

    with tempfile.TemporaryDirectory(prefix="nbk-") as d:
        NotebookClient(nb, config=ipc_config(d), ...).execute()      # or papermill.execute_notebook(..., config=...)
"""
from __future__ import annotations

import os
from pathlib import Path


def ipc_config(folder: str | Path):
    """traitlets Config that makes the kernel manager nbclient creates use IPC sockets
    ``folder/kernel-N`` (POSIX only; elsewhere an empty Config). The client still owns and shuts
    down its kernel. ``folder`` must be private to the caller and short (Unix socket paths are
    limited to about 100 characters)."""
    from traitlets.config import Config

    cfg = Config()
    if os.name == "posix":
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = str(Path(folder) / "kernel")
    return cfg
