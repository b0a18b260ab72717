"""Private servers for fault tests and load runs: Redis, a PostgreSQL cluster, `drt serve`.

Everything listens on 127.0.0.1 only, on free ports, with its files in a temporary
directory, and is started and stopped by its owner (``tests/faults/conftest.py``, ``drt bench
load``): nothing here touches the machine's own PostgreSQL or Redis.

- :class:`RedisServer`: ``redis-server --save '' --appendonly no`` (nothing persists, so a
  restart loses every key, as a real Redis failure without persistence would);
- :class:`PostgresCluster`: ``initdb`` + ``pg_ctl``; PostgreSQL refuses to run as root, so as
  root the binaries run as an unprivileged user (``nobody``, or ``DRT_PG_USER``) that owns
  the cluster's directory;
- :class:`DrtServer`: ``python -m drt serve --workers N``, with helpers to kill one worker
  (``SIGKILL``; uvicorn's supervisor starts a replacement) or the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("DRT_PG_BIN", "/usr/local/bin"))
REDIS_SERVER = os.environ.get("DRT_REDIS_SERVER", "/usr/bin/redis-server")
LOCALHOST = "127.0.0.1"
STARTED = "Application startup complete."  # what uvicorn logs once per worker


class ServiceError(RuntimeError):
    """A private server would not start or stop."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, pause_s: float = 0.05) -> None:
    """Poll ``check`` until it is true; :class:`ServiceError` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise ServiceError(f"{what}: not within {timeout_s:g} s")
        time.sleep(pause_s)


def missing_binaries() -> list[str]:
    """The server binaries this module needs that are not installed."""
    needed = [Path(REDIS_SERVER), PG_BIN / "initdb", PG_BIN / "pg_ctl", PG_BIN / "postgres"]
    return [str(p) for p in needed if not os.access(p, os.X_OK)]


def child_processes(ppid: int) -> list[tuple[int, str]]:
    """``(pid, whole command line)`` of each living process whose parent is ``ppid``, by pid.

    Read from ``/proc``, not ``ps``: ``ps`` cuts the command line to the terminal's width
    (``COLUMNS``, 80 on a CI runner), and a cut line hid the word that tells uvicorn's workers
    from multiprocessing's resource tracker.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[1]) != ppid or fields[0] == "Z" or not cmdline:
            continue
        found.append(
            (int(entry.name), cmdline.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace"))
        )
    return sorted(found)


# -- Redis -------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A private ``redis-server``; :meth:`stop` and :meth:`start` again keep the port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ping(self) -> bool:
        try:
            with socket.create_connection((LOCALHOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout_s: float = 10) -> None:
        if self.running:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [REDIS_SERVER, "--port", str(self.port), "--bind", LOCALHOST, "--save", "",
               "--appendonly", "no", "--dir", str(self.workdir), "--daemonize", "no",
               "--logfile", str(self.workdir / "redis.log")]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.ping, timeout_s, f"redis-server on port {self.port}")

    def stop(self, *, kill: bool = False, timeout_s: float = 10) -> None:
        """Stop the server (SIGTERM, or SIGKILL with ``kill``) and wait for it to exit."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout_s)
        self.proc = None

    def flush(self) -> None:
        """Delete every key (a private server: nobody else uses it)."""
        with socket.create_connection((LOCALHOST, self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            if not sock.recv(16).startswith(b"+OK"):
                raise ServiceError("FLUSHALL failed")


# -- PostgreSQL --------------------------------------------------------------------------------


def pg_user() -> str | None:
    """The user that runs initdb/pg_ctl: ``None`` (this one) unless running as root."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("DRT_PG_USER", "nobody")
    try:
        pwd.getpwnam(name)
    except KeyError:
        name = "drt-pg"
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", name], check=True)  # fmt: skip
    return name


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in ``base`` (made by :meth:`create`)."""

    base: Path
    port: int = field(default_factory=free_port)
    user: str | None = None

    @classmethod
    def create(cls, parent: Path | None = None) -> PostgresCluster:
        """``initdb`` in a new directory (owned by the user that runs the server)."""
        user = pg_user()
        base = Path(tempfile.mkdtemp(prefix="drt-pg-", dir=parent))
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        cluster = cls(base, user=user)
        cluster._run(["initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8", "--locale", "C"], timeout_s=120)  # fmt: skip
        return cluster

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{LOCALHOST}:{self.port}/{database}"

    def _run(self, args: Sequence[str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              cwd=self.base, stdin=subprocess.DEVNULL)  # fmt: skip
        if done.returncode != 0:
            raise ServiceError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout}")
        return done

    @property
    def running(self) -> bool:
        cmd = [str(PG_BIN / "pg_ctl"), "status", "-D", str(self.data)]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0

    def start(self, timeout_s: float = 60) -> None:
        options = (f"-p {self.port} -k {self.base} -c listen_addresses={LOCALHOST} "
                   "-c max_connections=200")  # fmt: skip
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "log"),
                   "-w", "-t", str(int(timeout_s)), "start"], timeout_s=timeout_s + 10)  # fmt: skip

    def stop(self, mode: str = "fast", timeout_s: float = 60) -> None:
        """``pg_ctl stop -m fast|immediate`` (immediate: a crash; recovery on the next start)."""
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout_s)),
                   "stop"], timeout_s=timeout_s + 10)  # fmt: skip

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def create_database(self, name: str) -> str:
        """A new database; returns its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"postgresql://postgres@{LOCALHOST}:{self.port}/postgres",
                             autocommit=True, connect_timeout=10) as conn:  # fmt: skip
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server however it can be stopped and remove the cluster's directory."""
        if self.data.exists():
            try:
                if self.running:
                    self.stop("immediate", timeout_s=30)
            except (ServiceError, subprocess.TimeoutExpired):
                pid = self.postmaster_pid()
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)


def prepare_database(url: str, staff: Sequence[tuple[str, str, str]]) -> None:
    """Migrate the database at ``url`` and create staff accounts (name, password, role)."""
    from common.db import make_engine, make_sessionmaker
    from residents.service import create_staff
    from server.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            for name, password, role in staff:
                create_staff(session, name, password, role)
            session.commit()
    finally:
        engine.dispose()


# -- the booking service -----------------------------------------------------------------------


def service_env(database_url: str, redis_url: str, cache_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of `drt serve` on these servers (everything else from this one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRT_")}
    env.update({
        "DRT_DATABASE_URL": database_url, "DRT_REDIS_URL": redis_url,
        "DRT_CACHE_DIR": str(cache_dir.resolve()), "DRT_EMBEDDED": "0",
        "DRT_AREA": os.environ.get("DRT_AREA", str(ROOT / "areas" / "kurate" / "area.toml")),
        "PYTHONUNBUFFERED": "1",
        "DRT_SURVEY_KEY": "load-and-fault-tests-survey-key-0123456789",
    })  # fmt: skip
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # No bytecode in the work tree, but a cache elsewhere: a worker then starts in
        # seconds instead of compiling every module again (fault tests restart it often).
        env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "drt-pycache"))
    env.update(extra)
    return env


@dataclass
class DrtServer:
    """``python -m drt serve --workers N`` in a process group of its own."""

    env: dict[str, str]
    log_path: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log_offset: int = 0
    _started_at_kill: int = 0

    @property
    def base(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def healthy(self, timeout_s: float = 1.0) -> bool:
        try:
            return httpx.get(f"{self.base}/healthz", timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def _started_workers(self) -> int:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(self._log_offset)
                return fh.read().decode(errors="replace").count(STARTED)
        except OSError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def start(self, timeout_s: float = 120) -> None:
        """Start the server and wait until every worker has started and /healthz answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServiceError("the server is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "drt", "serve", "--host", LOCALHOST,
                 "--port", str(self.port), "--workers", str(self.workers)],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        proc = self.proc

        def up() -> bool:
            if proc.poll() is not None:
                raise ServiceError(f"drt serve exited ({proc.returncode}):\n{self.log_tail()}")
            return self._started_workers() >= self.workers and self.healthy()

        try:
            wait_for(up, timeout_s, "drt serve", pause_s=0.1)
        except ServiceError:
            self.kill()
            raise

    def worker_pids(self) -> list[int]:
        """The worker processes uvicorn's supervisor runs now (children of the server)."""
        if self.proc is None:
            return []
        return [pid for pid, args in child_processes(self.proc.pid)
                if "multiprocessing" in args and "resource_tracker" not in args]  # fmt: skip

    def kill_worker(self, index: int = 0) -> int:
        """SIGKILL one worker (uvicorn starts a replacement); returns its pid."""
        pids = self.worker_pids()
        if len(pids) <= index:
            raise ServiceError(f"no worker {index} (workers: {pids})")
        self._started_at_kill = self._started_workers()
        os.kill(pids[index], signal.SIGKILL)
        return pids[index]

    def wait_worker_replaced(self, gone: int, timeout_s: float = 180) -> None:
        """Wait until the killed worker ``gone`` has a replacement that has started."""
        proc = self.proc

        state: dict[str, object] = {}

        def replaced() -> bool:
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise ServiceError(f"drt serve exited ({code}):\n{self.log_tail()}")
            pids = self.worker_pids()
            state.update(workers=pids, killed_still_listed=gone in pids,
                         started_since_kill=self._started_workers() - self._started_at_kill)  # fmt: skip
            if gone in pids or len(pids) < self.workers or state["started_since_kill"] == 0:
                return False
            state["healthz"] = self.healthy(timeout_s=5.0)  # a loaded machine answers slowly
            return bool(state["healthz"])

        try:
            wait_for(replaced, timeout_s, "a replacement worker", pause_s=0.05)
        except ServiceError as exc:
            raise ServiceError(f"{exc}; last seen {state}; processes:\n{self.process_tree()}\n"
                               f"the server's log:\n{self.log_tail(60)}") from exc  # fmt: skip

    def process_tree(self) -> str:
        """``ps`` of the server's process group (for reports when something did not start)."""
        if self.proc is None:
            return ""
        return subprocess.run(["ps", "-ww", "-g", str(self.proc.pid), "-o", "pid=,ppid=,stat=,etime=,args="],
                              capture_output=True, text=True, timeout=10).stdout  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the server and its workers (the whole process group)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def stop(self, timeout_s: float = 20) -> None:
        """SIGTERM (uvicorn stops its workers), then SIGKILL whatever is left of the group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout_s)
        self.kill()

    def restart(self, timeout_s: float = 120) -> None:
        self.kill()
        self.start(timeout_s)


# -- everything together -------------------------------------------------------------------------


@dataclass
class Backends:
    """A private Redis and PostgreSQL cluster, running."""

    redis: RedisServer
    postgres: PostgresCluster

    def ensure_running(self) -> None:
        if not self.redis.running:
            self.redis.start()
        if not self.postgres.running:
            self.postgres.start()


@contextlib.contextmanager
def private_backends(workdir: Path) -> Iterator[Backends]:
    """Start a Redis and a PostgreSQL cluster of our own; always stop and remove both."""
    missing = missing_binaries()
    if missing:
        raise ServiceError(f"missing server binaries: {', '.join(missing)}")
    redis_server = RedisServer(workdir / "redis")
    cluster: PostgresCluster | None = None
    try:
        redis_server.start()
        cluster = PostgresCluster.create()
        cluster.start()
        yield Backends(redis_server, cluster)
    finally:
        redis_server.stop(kill=True)
        if cluster is not None:
            cluster.destroy()


@contextlib.contextmanager
def running_server(server: DrtServer, timeout_s: float = 120) -> Iterator[DrtServer]:
    """Start ``server``; always kill it (and every worker) on the way out."""
    try:
        server.start(timeout_s)
        yield server
    finally:
        server.stop()
