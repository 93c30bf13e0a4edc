"""Notebook kernels forked from a process that has already imported the pipeline (``make repro``).

Every notebook stage is one ``papermill`` command, and every one starts a fresh IPython kernel
that imports ipykernel, torch, torchvision, pytorchvideo, pandas, matplotlib and ``tempaug``
before its first cell does any work. Measured on an idle 2-core machine: papermill on a
notebook that only does the run notebook's imports takes 5.6 s with a fresh kernel and 1.8 s
with a forked one (``benchmarks/pipeline.py``); a whole training stage (``ucf101_val@baseline``,
three seeds, run alone) spent 7.0 s and 2.7 s outside ``fit``. The idea is
that of :mod:`multiprocessing`'s forkserver, applied to the kernels:

* :func:`serve` (``python -m tempaug.pipeline.warm_kernel serve --socket PATH``) imports
  :data:`PRELOAD` once and then waits on a Unix socket. For each request it forks a child that
  takes the requester's environment, working directory, ``sys.path``, argv and standard streams
  and runs ipykernel's ``IPKernelApp`` there, as ``python -m ipykernel_launcher`` would;
* :func:`launch` (``python -m tempaug.pipeline.warm_kernel launch -f CONNECTION_FILE``) is the
  kernel command of a kernel spec named ``python3`` (:func:`write_kernel_spec`): what
  jupyter_client starts, signals and waits for. It asks the server for a kernel, forwards the
  signals it receives to the kernel's process group and exits with the kernel's status. Without
  a server (``TEMPAUG_KERNEL_SERVER`` unset or not listening) it becomes the standard kernel
  (``exec``), so a stage command behaves the same with or without one.

``make repro`` (:func:`tempaug.pipeline.parallel.repro`) starts a server, puts the kernel spec
first on ``JUPYTER_PATH`` of every stage command and stops the server at the end; the stage
commands themselves (what DVC records) do not change, and ``dvc repro`` uses ordinary kernels.

A forked kernel shares with the server only what importing :data:`PRELOAD` left behind. The
server runs nothing else: no parallel region (the idle native pools NumPy's OpenBLAS and
OpenCV start at import are rebuilt in the child, as in a DataLoader worker started by fork),
no CUDA context, no random draw; the child reseeds NumPy's legacy global generator from the OS
as a fresh process would (the standard library's ``random`` reseeds itself after a fork). The
imports saw the server's environment, so a kernel whose environment differs outside
:data:`LATE_ENV` is started the standard way instead (the launcher says which variables
differ), and what a preloaded module decided at import from not being inside a kernel is set
as a kernel would have it (:func:`_as_imported_in_a_kernel`: pandas' ``display.max_columns``).
``make repro`` with forked kernels reproduced every run file and table of a repro with fresh
kernels on the same CPU type byte for byte; ``tests/test_pipeline_warm_kernel.py`` compares a notebook's
outputs (DataFrame reprs, matplotlib backend, environment, argv) through both.

If a launcher dies (jupyter_client kills a kernel that does not shut down), the server kills
that kernel; if the server is stopped, it kills every kernel it started, and a kernel dies with
the server (``PR_SET_PDEATHSIG``). Linux only; elsewhere the launcher always execs the standard
kernel.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_SERVER",
    "LATE_ENV",
    "PRELOAD",
    "KernelServer",
    "env_mismatch",
    "launch",
    "serve",
    "write_kernel_spec",
]

#: Environment variable naming the server's socket; the launcher's only input besides argv.
ENV_SERVER = "TEMPAUG_KERNEL_SERVER"

#: What a stage's kernel imports before its first cell does any work (the notebooks' imports
#: and the modules behind ``tempaug.pipeline.execute_run``).
PRELOAD: tuple[str, ...] = (
    "ipykernel.kernelapp",
    "IPython.display",
    "pandas",
    "matplotlib.pyplot",
    "torch",
    "torchvision",
    "pytorchvideo.models",
    "cv2",
    "av",
    "tempaug.augment",
    "tempaug.data",
    "tempaug.models",
    "tempaug.train",
    "tempaug.pipeline",
    "tempaug.analysis",
    "tempaug.analysis.tables",
    "tempaug.analysis.gallery",
)

#: Variables a kernel's environment may have that the server's lacks (or differ): those read
#: only after the fork — by ipykernel when it starts (jupyter_client's ``JPY_*``; passed on as
#: options, as ipykernel reads them at import), by CUDA when first used (a GPU slot's
#: ``CUDA_VISIBLE_DEVICES``) — and the shell's own. Any other difference means an import may
#: have seen another value, so that kernel starts the standard way.
LATE_ENV: frozenset[str] = frozenset(
    {
        "_",
        "PS1",
        "SHLVL",
        "PWD",
        "OLDPWD",
        "JPY_PARENT_PID",
        "JPY_SESSION_NAME",
        "JPY_INTERRUPT_EVENT",
        "CUDA_VISIBLE_DEVICES",
    }
)

#: ipykernel's default backend; set before matplotlib is imported, as ipykernel does.
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Largest request (argv, environment, sys.path) a launcher may send.
_MAX_REQUEST = 1 << 20
_PR_SET_PDEATHSIG = 1
#: ``sys.argv[0]`` of a standard kernel.
_IPYKERNEL_LAUNCHER = getattr(importlib.util.find_spec("ipykernel_launcher"), "origin", None)


def write_kernel_spec(directory: str | Path, python: str | None = None) -> Path:
    """Write a ``python3`` kernel spec under ``directory/kernels`` whose kernel is :func:`launch`.

    Put ``directory`` first on ``JUPYTER_PATH`` and every ``papermill`` / nbclient run that asks
    for ``python3`` (the notebooks' kernel) gets it. Display name and language are those of
    ipykernel's own spec (``get_kernel_dict``), so executed notebooks record the same metadata. Returns ``directory``.
    """
    spec_dir = Path(directory) / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    from ipykernel.kernelspec import get_kernel_dict

    spec = get_kernel_dict()
    spec["argv"] = [
        python or sys.executable,
        "-m",
        "tempaug.pipeline.warm_kernel",
        "launch",
        "-f",
        "{connection_file}",
    ]
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return Path(directory)


# ------------------------------------------------------------------------------------ launcher
def _standard_kernel(argv: Sequence[str]) -> None:
    """Become ``python -m ipykernel_launcher ARGV`` (does not return)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv])


def _kernel_sys_path() -> list[str]:
    """``sys.path`` as ``ipykernel_launcher`` leaves it: without the working directory."""
    path = list(sys.path)
    if path and (path[0] == "" or Path(path[0]) == Path.cwd()):
        del path[0]
    return path


def launch(argv: Sequence[str]) -> int:
    """Run a kernel forked by the server of ``$TEMPAUG_KERNEL_SERVER``; return its exit status.

    ``argv`` are ipykernel's arguments (``-f CONNECTION_FILE``). SIGINT, SIGTERM, SIGHUP and
    SIGQUIT are passed on to the kernel's process group. Without a reachable server this process
    becomes the standard kernel instead (``exec``; does not return).
    """
    path = os.environ.get(ENV_SERVER)
    if not path or not sys.platform.startswith("linux"):
        _standard_kernel(argv)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        _standard_kernel(argv)
    request = {
        "argv": list(argv),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "sys_path": _kernel_sys_path(),
        "launcher": os.getpid(),
    }
    data = json.dumps(request).encode()
    if len(data) > _MAX_REQUEST:
        raise RuntimeError(f"kernel request of {len(data)} bytes exceeds {_MAX_REQUEST}")
    socket.send_fds(conn, [data], [0, 1, 2])
    reply = conn.recv(4096)
    if not reply:
        print("warm_kernel: the kernel server closed the connection", file=sys.stderr)
        return 1
    answer = json.loads(reply)
    if "fallback" in answer:  # imported under another environment: start the standard way
        conn.close()
        print(
            f"warm_kernel: standard kernel ({answer['fallback']} differ from the server's)",
            file=sys.stderr,
        )
        _standard_kernel(argv)
    pid = int(answer["pid"])

    def forward(signum: int, _frame: Any) -> None:
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    while True:
        try:
            reply = conn.recv(4096)
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries recv itself
            continue
    if not reply:
        print("warm_kernel: the kernel server stopped before the kernel exited", file=sys.stderr)
        return 1
    return int(json.loads(reply)["status"])


# -------------------------------------------------------------------------------------- server
class KernelServer:
    """The forking server behind :func:`serve`: one listening socket, one connection per kernel.

    Single-threaded (a selector loop), so that a fork never copies another thread's state.
    """

    def __init__(
        self,
        path: str | Path,
        env: dict[str, str] | None = None,
        added: dict[str, str] | None = None,
    ) -> None:
        self.path = str(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.listener.bind(self.path)
        self.listener.listen(64)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.kernels: dict[int, socket.socket] = {}  # pid -> its launcher's connection
        self.env = dict(os.environ) if env is None else dict(env)  # what the imports saw
        self.added = dict(added or {})  # what the imports (and the inline backend) set
        self.stopping = False

    def run(self) -> None:
        """Serve until SIGTERM / SIGINT, then kill the kernels still running and remove the
        socket."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            while not self.stopping:
                for key, _ in self.selector.select(timeout=0.1):
                    if key.fileobj is self.listener:
                        self._accept()
                    else:
                        self._launcher_event(key.fileobj, key.data)
                self._reap()
        finally:
            self.close()

    def close(self) -> None:
        for pid in list(self.kernels):
            _kill_group(pid)
        deadline = time.monotonic() + 5.0
        while self.kernels and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.02)
        self.selector.close()
        self.listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.stopping = True

    def _accept(self) -> None:
        conn, _ = self.listener.accept()
        try:
            data, fds, _flags, _addr = socket.recv_fds(conn, _MAX_REQUEST, 3)
            request = json.loads(data)
            if len(fds) != 3:
                raise ValueError(f"expected 3 standard streams, got {len(fds)}")
        except (OSError, ValueError) as exc:
            print(f"warm_kernel: bad kernel request: {exc}", file=sys.stderr, flush=True)
            conn.close()
            return
        mismatch = env_mismatch(self.env, request.get("env", {}))
        if mismatch:
            for fd in fds:
                os.close(fd)
            conn.sendall(json.dumps({"fallback": mismatch}).encode())
            conn.close()
            return
        pid = os.fork()
        if pid == 0:  # the kernel
            try:
                self._become_kernel(request, fds, conn)
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)
        self.kernels[pid] = conn
        conn.sendall(json.dumps({"pid": pid}).encode())
        self.selector.register(conn, selectors.EVENT_READ, pid)

    def _become_kernel(self, request: dict[str, Any], fds: list[int], conn: socket.socket) -> None:
        status = 1
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            self.selector.close()
            self.listener.close()
            for other in self.kernels.values():
                other.close()
            conn.close()
            os.setsid()  # its own process group: the launcher signals the group
            _die_with_parent()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            os.environ.clear()
            os.environ.update(request["env"])
            os.environ.update(self.added)
            os.chdir(request["cwd"])
            sys.path[:] = request["sys_path"]
            sys.argv = [_IPYKERNEL_LAUNCHER or sys.argv[0], *request["argv"]]
            if "numpy" in sys.modules:  # fresh legacy global state, as in a new process
                sys.modules["numpy"].random.seed()
            _as_imported_in_a_kernel()
            from ipykernel import kernelapp

            kernelapp.IPKernelApp.launch_instance(argv=_kernel_argv(request))
            status = 0
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # report anything, then leave with status 1
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def _launcher_event(self, conn: Any, pid: int) -> None:
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:  # the launcher is gone: so is its kernel
            _kill_group(pid)

    def _reap(self) -> None:
        while self.kernels:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.kernels.pop(pid, None)
            if conn is None:
                continue
            status = os.waitstatus_to_exitcode(wait_status)
            try:
                conn.sendall(json.dumps({"status": status}).encode())
            except OSError:
                pass
            self.selector.unregister(conn)
            conn.close()


def env_mismatch(server: dict[str, str], kernel: dict[str, str]) -> str | None:
    """The variables (outside :data:`LATE_ENV`) that differ between two environments, or None."""
    differ = {k for k in set(server) | set(kernel) if server.get(k) != kernel.get(k)}
    return ", ".join(sorted(differ - LATE_ENV)) or None


def _kernel_argv(request: dict[str, Any]) -> list[str]:
    """ipykernel's arguments plus the options ipykernel takes from ``JPY_*`` at import time."""
    argv = list(request["argv"])
    env = request["env"]
    for var, trait in (
        ("JPY_PARENT_PID", "parent_handle"),
        ("JPY_INTERRUPT_EVENT", "interrupt"),
    ):
        if env.get(var):
            argv.append(f"--IPKernelApp.{trait}={int(env[var])}")
    return argv


def _as_imported_in_a_kernel() -> None:
    """Undo what the preloaded modules decided at import from not running inside a kernel.

    pandas registers ``display.max_columns`` as 0 (fit the terminal's width) when imported
    outside a Jupyter kernel and 20 inside one (``pandas.core.config_init.is_terminal``), which
    changes every DataFrame's text repr in an executed notebook. The kernel's value is set here.
    (``MPLBACKEND``, matplotlib's other import-time choice, is set before the imports.)
    """
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        pandas.set_option("display.max_columns", 20)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
            return
        except ProcessLookupError:
            continue


def _die_with_parent() -> None:
    """Linux ``PR_SET_PDEATHSIG``: the kernel is killed if the server dies without cleaning up."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def serve(path: str | Path, preload: Sequence[str] = PRELOAD, *, ready: str | None = None) -> None:
    """Import ``preload`` and fork kernels on the Unix socket ``path`` until SIGTERM / SIGINT.

    ``ready``: a file written (``"ready"``) once the socket accepts requests.
    """
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # as papermill's kernels have
    before = dict(os.environ)
    os.environ.setdefault("MPLBACKEND", _INLINE_BACKEND)
    for name in preload:
        importlib.import_module(name)
    added = {k: v for k, v in os.environ.items() if before.get(k) != v}
    server = KernelServer(path, env=before, added=added)
    if ready:
        Path(ready).write_text("ready\n", encoding="utf-8")
    server.run()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tempaug.pipeline.warm_kernel serve --socket PATH [--preload a,b]`` or
    ``… launch -f CONNECTION_FILE`` (what a kernel spec runs)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["launch"]:
        return launch(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m tempaug.pipeline.warm_kernel")
    sub = ap.add_subparsers(dest="command", required=True)
    srv = sub.add_parser("serve", help="import the pipeline once and fork notebook kernels")
    srv.add_argument("--socket", required=True, help="Unix socket path to listen on")
    srv.add_argument("--preload", default=None, help="comma-separated modules (default: PRELOAD)")
    srv.add_argument("--ready", default=None, help="file to write once listening")
    sub.add_parser("launch", help="start a kernel from the server (kernel spec argv)")
    args = ap.parse_args(argv)
    preload = PRELOAD if args.preload is None else tuple(filter(None, args.preload.split(",")))
    serve(args.socket, preload, ready=args.ready)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
