"""A throwaway PostgreSQL server from Debian's packages, started by the tests themselves.

initdb refuses to run as root, so the cluster belongs to the ``postgres`` user (created by the
Debian package) and is started with ``runuser``; fsync is off, the socket and data live in a
temporary folder, and the server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    return int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    bin: Path
    root: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        _as_postgres(
            [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"],
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _as_postgres(argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=120)


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start on a free port; raises RuntimeError with the server log on failure."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="auditor-pg-"))
    os.chmod(root, 0o755)
    for sub in ("data", "sock"):
        (root / sub).mkdir()
    if os.geteuid() == 0:
        shutil.chown(root / "data", "postgres")
        shutil.chown(root / "sock", "postgres")
    _as_postgres(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        ]
    )
    port = _free_port()
    options = (
        f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    log = root / "data" / "log"
    started = _as_postgres(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(root / "data"),
            "-w",
            "-t",
            "60",
            "-l",
            str(log),
            "-o",
            options,
            "start",
        ],
        check=False,
    )
    if started.returncode != 0:
        text = log.read_text() if log.exists() else started.stderr
        raise RuntimeError(f"PostgreSQL did not start: {text[-2000:]}")
    return PostgresServer(bin_dir, root, port)
