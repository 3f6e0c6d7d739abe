"""A private JupyterLab server for the browser tests.

`LabServer` starts ``jupyter lab`` on 127.0.0.1 at a port the operating system
picks, with a random token and its own config, runtime, settings and workspace
folders, so nothing a developer has configured (and nothing another server
runs) leaks in. It is stopped by its PID, and every process it started — its
kernels and their children — is killed by PID too.

Only the standard library and psutil (which IPython, and so every kernel,
already depends on) are imported here, so collecting the tests stays cheap.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

__all__ = ["LabServer", "LabServerError"]

# A fresh server needs a few seconds; a loaded 2-core machine can take far longer.
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
KERNELS_GONE_TIMEOUT_S = 30.0
POLL_S = 0.2

# Everything that could make the server or the page reach the network, or
# show a dialog a test did not ask for, is switched off.
_SERVER_CONFIG = {
    "ServerApp": {
        "ip": "127.0.0.1",
        "port": 0,  # the OS picks a free port; it is read back from the runtime file
        "port_retries": 0,
        "open_browser": False,
        "allow_root": True,  # containers and CI run as root
        "terminals_enabled": False,
        "jpserver_extensions": {"jupyter_lsp": False},
        # A safety net if the test process dies without stopping the server.
        "shutdown_no_activity_timeout": 600,
    },
    "MappingKernelManager": {"cull_idle_timeout": 600, "cull_interval": 60},
    "LabApp": {
        # window.jupyterapp lets a test read the notebook model (error outputs,
        # tags) instead of guessing from colours.
        "expose_app_in_browser": True,
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "extension_manager": "readonly",
    },
}

# User settings the way JupyterLab stores them: <plugin package>/<plugin>.jupyterlab-settings.
_LAB_SETTINGS = {
    # Keep every cell in the DOM (the default windowing leaves far cells unrendered).
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # The course's own setting (binder/overrides.json): with comms over subshells a
    # button click can reach the kernel before the value typed just before it.
    "@jupyterlab/apputils-extension/kernels-settings": {"commsOverSubshells": "disabled"},
    # No "would you like news?" toast over the notebook.
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


class LabServerError(RuntimeError):
    """The server did not start, did not answer, or would not stop."""


class LabServer:
    """One ``jupyter lab`` process serving ``root``, with its state kept under ``state``.

    ``start()`` returns once the server answers; ``stop()`` must be called
    (a ``try``/``finally`` or a fixture) and is safe to call twice.
    """

    def __init__(self, *, root: Path, state: Path, log_path: Path | None = None) -> None:
        self.root = root
        self.state = state
        self.log_path = log_path or state / "jupyter-lab.log"
        self.token = secrets.token_hex(24)
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LabServerError("the server has not started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        dirs = {name: self.state / name for name in ("config", "runtime", "settings", "workspaces")}
        for folder in dirs.values():
            folder.mkdir(parents=True, exist_ok=True)
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(_SERVER_CONFIG))
        for plugin, values in _LAB_SETTINGS.items():
            path = dirs["settings"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

        env = {
            key: value
            for key, value in os.environ.items()
            # The kernel inherits this environment: without pytest's variable it
            # captures what children print, as in a learner's JupyterLab (and as
            # the kernels nbval starts, see the root conftest.py).
            if key != "PYTEST_CURRENT_TEST" and not key.startswith("JUPYTER")
        }
        bin_dir = str(Path(sys.executable).parent)
        env.update(
            PATH=os.pathsep.join([bin_dir, env.get("PATH", "")]),
            JUPYTER_TOKEN=self.token,  # in the environment, not on the command line
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            JUPYTER_PLATFORM_DIRS="1",
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={self.root}"],
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C in the terminal reaches pytest, not the server
            )
        try:
            self._wait_until_ready(dirs["runtime"] / f"jpserver-{self._proc.pid}.json")
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self, runtime_file: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise LabServerError(
                    f"jupyter lab exited with code {self._proc.returncode}:\n{self.log_tail()}"
                )
            if self.port is None and runtime_file.exists():
                try:
                    self.port = int(json.loads(runtime_file.read_text())["port"])
                except (ValueError, KeyError):
                    pass  # written but not flushed yet
            if self.port is not None:
                try:
                    self.api("GET", "/api/status")
                    return
                except (OSError, LabServerError):
                    pass
            time.sleep(POLL_S)
        raise LabServerError(
            f"jupyter lab was not ready within {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server by its PID, then kill by PID whatever it started that outlived it."""
        if self._proc is None:
            return
        try:
            started = psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        if self._proc.poll() is None:
            # SIGTERM makes jupyter shut its kernels down before exiting.
            os.kill(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=STOP_TIMEOUT_S)
        for child in started:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(started, timeout=STOP_TIMEOUT_S)
        self._proc = None

    # -- REST API --------------------------------------------------------

    def api(self, method: str, path: str) -> object:
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise LabServerError(f"{method} {path} answered {error.code}") from error
        return json.loads(body) if body else None

    def url_for(self, relative_path: str, *, workspace: str) -> str:
        """The URL that opens ``relative_path`` in a fresh, empty workspace, logged in."""
        return (
            f"{self.base_url}/lab/workspaces/{workspace}/tree/{relative_path}"
            f"?reset&token={self.token}"
        )

    def shutdown_kernels(self) -> None:
        """End every session and kernel, and wait (bounded) until their processes are gone."""
        kernel_procs = self._kernel_processes()
        for session in self.api("GET", "/api/sessions"):  # type: ignore[union-attr]
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):  # type: ignore[union-attr]
            self.api("DELETE", f"/api/kernels/{kernel['id']}")
        _, alive = psutil.wait_procs(kernel_procs, timeout=KERNELS_GONE_TIMEOUT_S)
        for proc in alive:  # a kernel that ignored its shutdown, or a child it left behind
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        if alive:
            names = ", ".join(f"{p.pid}" for p in alive)
            raise LabServerError(f"kernel processes outlived their shutdown: {names}")

    def _kernel_processes(self) -> list[psutil.Process]:
        if self._proc is None:
            return []
        try:
            return psutil.Process(self._proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
