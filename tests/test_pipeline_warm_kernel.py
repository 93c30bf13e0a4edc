"""Kernels forked from a warm server (tempaug.pipeline.warm_kernel): same notebook, same outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tempaug.pipeline import warm_kernel
from tempaug.pipeline.executed import clean_notebook

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux fork server")

#: A light preload for the tests (the real one imports torch and the pipeline: seconds).
PRELOAD = "ipykernel.kernelapp,json,pandas"

NOTEBOOK = [
    ("x = 1", ["parameters"]),
    (
        "import os, sys\n"
        "print(x * 2, os.environ.get('TEMPAUG_TEST_VALUE'), os.path.basename(os.getcwd()))\n"
        "print(sys.argv[0].endswith('ipykernel_launcher.py'), '' in sys.path)",
        [],
    ),
    ("import matplotlib\nprint(matplotlib.get_backend())", []),
    # pandas decides at import how many columns a repr shows (not inside a kernel: the
    # terminal's width); imported by the server, it must still show a kernel's repr
    (
        "import pandas as pd\npd.DataFrame([range(30)] * 3, columns=[f'column_{i}' for i in range(30)])",
        [],
    ),
    ("print(os.getppid())", []),
]


def _notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in NOTEBOOK]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def server(tmp_path):
    """A warm-kernel server started as ``make repro`` starts it, and the stages' environment."""
    spec = warm_kernel.write_kernel_spec(tmp_path / "jupyter")
    sock, ready = tmp_path / "s.sock", tmp_path / "ready"
    env = {**os.environ, "JUPYTER_PATH": str(spec), warm_kernel.ENV_SERVER: str(sock)}
    env["TEMPAUG_TEST_VALUE"] = "seen"
    env.pop("MPLBACKEND", None)
    serve = ["serve", "--preload", PRELOAD, "--socket", str(sock), "--ready", str(ready)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tempaug.pipeline.warm_kernel", *serve],
        env=env,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield proc, env
    proc.terminate()
    proc.wait(timeout=30)


def _papermill(src: Path, dst: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            "--log-level",
            "WARNING",
            "-p",
            "x",
            "21",
            str(src),
            str(dst),
        ],
        env=env,
        cwd=src.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _text(output: dict) -> str:
    text = output["text"]
    return text if isinstance(text, str) else "".join(text)


def _outputs(path: Path) -> list:
    nb = clean_notebook(json.loads(path.read_text(encoding="utf-8")))
    return [
        (cell["source"], cell.get("outputs"), cell["metadata"])
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
    ]


def test_forked_kernel_runs_a_notebook_as_the_standard_kernel_does(server, tmp_path):
    proc, env = server
    src = _notebook(tmp_path / "nb.ipynb")
    warm = _papermill(src, tmp_path / "warm.ipynb", env)
    assert warm.returncode == 0, warm.stderr
    standard_env = {k: v for k, v in env.items() if k != warm_kernel.ENV_SERVER}
    standard_env["JUPYTER_PATH"] = ""
    cold = _papermill(src, tmp_path / "cold.ipynb", standard_env)
    assert cold.returncode == 0, cold.stderr
    warm_cells, cold_cells = _outputs(tmp_path / "warm.ipynb"), _outputs(tmp_path / "cold.ipynb")
    env_out, backend, frame, parent = (o[0] for _, o, _ in warm_cells[-4:])
    # parameters, environment, working directory, argv and sys.path as in a fresh kernel
    assert _text(env_out) == f"42 seen {tmp_path.name}\nTrue True\n"
    assert _text(backend) == "module://matplotlib_inline.backend_inline\n"
    assert "column_29" in "".join(frame["data"]["text/plain"])  # a kernel's 20 columns: 0-9, 20-29
    assert _text(parent) == f"{proc.pid}\n"  # forked by the server
    assert _text(cold_cells[-1][1][0]) != f"{proc.pid}\n"
    assert warm_cells[:-1] == cold_cells[:-1]
    meta = [
        json.loads(p.read_text(encoding="utf-8"))["metadata"]
        for p in (tmp_path / "warm.ipynb", tmp_path / "cold.ipynb")
    ]
    assert meta[0]["kernelspec"] == meta[1]["kernelspec"]
    assert meta[0]["language_info"] == meta[1]["language_info"]


def test_kernels_are_reaped_and_the_server_serves_again(server, tmp_path):
    proc, env = server
    src = _notebook(tmp_path / "nb.ipynb")
    for i in range(2):
        out = _papermill(src, tmp_path / f"out{i}.ipynb", env)
        assert out.returncode == 0, out.stderr
        assert _text(_outputs(tmp_path / f"out{i}.ipynb")[-1][1][0]) == f"{proc.pid}\n"
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert children == []  # no kernel left running, no zombie


def test_another_environment_gets_the_standard_kernel(server, tmp_path):
    proc, env = server
    src = _notebook(tmp_path / "nb.ipynb")
    out = _papermill(src, tmp_path / "out.ipynb", {**env, "OMP_NUM_THREADS": "7"})
    assert out.returncode == 0, out.stderr
    assert "standard kernel (OMP_NUM_THREADS differ" in out.stderr
    assert _text(_outputs(tmp_path / "out.ipynb")[-1][1][0]) != f"{proc.pid}\n"


def test_without_a_server_the_launcher_is_the_standard_kernel(tmp_path):
    spec = warm_kernel.write_kernel_spec(tmp_path / "jupyter")
    env = {
        **os.environ,
        "JUPYTER_PATH": str(spec),
        warm_kernel.ENV_SERVER: str(tmp_path / "missing.sock"),
        "TEMPAUG_TEST_VALUE": "seen",
    }
    src = _notebook(tmp_path / "nb.ipynb")
    out = _papermill(src, tmp_path / "out.ipynb", env)
    assert out.returncode == 0, out.stderr
    assert _text(_outputs(tmp_path / "out.ipynb")[-4][1][0]).startswith("42 seen ")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kernel_pid(km) -> int:
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(
            "import os; print(os.getpid())", timeout=60, output_hook=_collect(out := [])
        )
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
    return int("".join(out))


def _collect(sink: list):
    def hook(msg):
        if msg["msg_type"] == "stream":
            sink.append(msg["content"]["text"])

    return hook


def _start_kernel(env: dict[str, str]):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(Path(env["JUPYTER_PATH"]) / "kernels")]
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
    km.start_kernel(env=env)
    return km


def test_a_killed_launcher_takes_its_kernel_with_it(server):
    proc, env = server
    env = {**env, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # what papermill gives its kernels
    km = _start_kernel(env)
    pid = _kernel_pid(km)
    assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(proc.pid)
    km.shutdown_kernel(now=True)  # SIGKILL to the launcher
    assert _wait_gone(pid), "the kernel outlived its launcher"
    assert proc.poll() is None


def test_stopping_the_server_stops_its_kernels(server, tmp_path):
    proc, env = server
    env = {**env, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    km = _start_kernel(env)
    pid = _kernel_pid(km)
    proc.terminate()
    proc.wait(timeout=30)
    assert _wait_gone(pid)
    assert not Path(env[warm_kernel.ENV_SERVER]).exists()
    deadline = time.monotonic() + 10
    while km.is_alive() and time.monotonic() < deadline:  # the launcher exits too
        time.sleep(0.05)
    assert not km.is_alive()
    km.cleanup_resources()


def test_env_mismatch_names_what_differs_outside_the_late_variables():
    server = {"A": "1", "B": "2", "SHLVL": "1"}
    assert warm_kernel.env_mismatch(server, {"A": "1", "B": "2", "SHLVL": "3"}) is None
    assert warm_kernel.env_mismatch(server, {**server, "JPY_PARENT_PID": "9"}) is None
    assert warm_kernel.env_mismatch(server, {**server, "CUDA_VISIBLE_DEVICES": "1"}) is None
    assert warm_kernel.env_mismatch(server, {"A": "2", "C": "3", "SHLVL": "1"}) == "A, B, C"
