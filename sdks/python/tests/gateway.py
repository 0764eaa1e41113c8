"""Runs the real ``assent`` binary for the tests: on port 0 (or a port the
test picked, to restart on), with a fresh data directory and an optional
policy file, and makes tokens through its API."""

import os
import re
import signal
import socket
import subprocess
import threading
import uuid
from pathlib import Path
from typing import List, Optional

import httpx

REPO_ROOT = Path(__file__).resolve().parents[3]
LISTENING = re.compile(r"assent listening on (http://\S+)")


def binary() -> str:
    path = os.environ.get("ASSENT_BIN") or str(REPO_ROOT / "target" / "debug" / "assent")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"no gateway binary at {path}: build it with `cargo build -p assent` or set ASSENT_BIN")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Gateway:
    """One ``assent serve`` process; ``restart()`` brings it back on the same
    address and data directory."""

    def __init__(self, data_dir: Path, *, port: int = 0, policy: Optional[Path] = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.policy = policy
        self.url = ""
        self.log: List[str] = []
        self._process: Optional[subprocess.Popen[str]] = None
        self.start()
        self.admin_token = (data_dir / "admin.token").read_text().strip()

    def start(self) -> None:
        command = [binary(), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data_dir)]
        if self.policy is not None:
            command += ["--policy", str(self.policy)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            self.log.append(line)
            found = LISTENING.search(line)
            if found:
                self.url = found.group(1)
                break
        else:
            process.wait()
            raise RuntimeError("the gateway did not start:\n" + "".join(self.log))
        threading.Thread(target=self._drain, args=(process,), daemon=True).start()
        self._process = process

    def _drain(self, process: "subprocess.Popen[str]") -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.log.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._process is None:
            return
        self._process.send_signal(sig)
        self._process.wait(timeout=30)
        self._process = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        """Stops the process with ``sig`` and starts a new one on the same
        port; only meaningful when the gateway was started on a fixed port."""
        assert self.port != 0, "restart needs a fixed port"
        self.stop(sig)
        self.start()

    def token(self, role: str, *, groups: Optional[List[str]] = None, name: Optional[str] = None) -> str:
        """A new token with ``role``, made by the admin."""
        body = {"name": name or f"{role}-{uuid.uuid4().hex[:8]}", "role": role, "groups": groups or []}
        response = httpx.post(
            f"{self.url}/v1/tokens", json=body, headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        response.raise_for_status()
        token: str = response.json()["token"]
        return token
