"""Notebook executions start their kernel on IPC sockets, so ipykernel's "Kernel is running over TCP
without encryption" warning has no cause (issue 8): checked on the book's executor and on papermill."""
from __future__ import annotations

import tempfile

import nbformat
import pytest

from analysis.book import _execute_one
from analysis.kernels import ipc_config

WARNING = "running over TCP without encryption"


def _tiny(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "tiny.ipynb"
    nbformat.write(nb, src)
    return src


def test_book_executor_starts_no_tcp_kernel(tmp_path, capfd):
    src = _tiny(tmp_path)
    name, _ = _execute_one((str(src), str(tmp_path / "out.ipynb"), 120))
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert out.cells[0].outputs[0]["text"] == "42\n"
    captured = capfd.readouterr()
    assert WARNING not in captured.err and WARNING not in captured.out


def test_papermill_with_the_ipc_config_starts_no_tcp_kernel(tmp_path, capfd):
    papermill = pytest.importorskip("papermill")
    src = _tiny(tmp_path)
    with tempfile.TemporaryDirectory(prefix="nbk-") as sockets:
        papermill.execute_notebook(str(src), str(tmp_path / "pm.ipynb"), kernel_name="python3", progress_bar=False,
                                   config=ipc_config(sockets))
    assert WARNING not in capfd.readouterr().err


def test_ipc_config_names_ipc_transport(tmp_path):
    cfg = ipc_config(tmp_path)
    assert cfg.KernelManager.transport == "ipc" and cfg.KernelManager.ip == str(tmp_path / "kernel")


def test_the_check_would_see_the_warning_of_a_tcp_kernel(tmp_path, capfd):
    """Control: nbclient's default (TCP) kernel does print the warning with ipykernel >= 7, so the
    two tests above can fail."""
    import ipykernel
    from nbclient import NotebookClient

    if int(ipykernel.__version__.split(".")[0]) < 7:
        pytest.skip("ipykernel < 7 does not warn about TCP")
    nb = nbformat.read(_tiny(tmp_path), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert WARNING in capfd.readouterr().err
