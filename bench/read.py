"""The read side under load: the funding board and the ranking page of a competition of
N submitted ideas (default 10,000) with 3 submitted reviews each, served by gunicorn in
production mode with the shipped gunicorn.conf.py (4 workers), fetched by 1 and by 8
concurrent clients. Prints p50/p95/p99 and throughput per page, for SQLite and PostgreSQL.
Goals: the board in at most 300 ms; the ranking page's p95 with 8 clients at most 500 ms.

    .venv/bin/python bench/read.py [--ideas 10000] [--databases sqlite,postgresql]
        [--requests 12] [--seconds 20] [--workers 4]

SQLite: the database is built once into --sqlite-file (default in the temporary
directory, named by the number of ideas) and reused by later runs while it holds the
competition. PostgreSQL: a database is created on --postgres (default
postgresql+psycopg://postgres@127.0.0.1:5432), filled, and dropped at the end.
Per page and number of clients, each client makes up to --requests requests (1 client) or
--requests × 2 (8 clients, over all of them 8 × that), stopping after --seconds; every
request opens its own connection, as gunicorn's sync workers close them. The data is
bench/data.py's."""

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.data import PER_IDEA, find, seed  # noqa: E402
from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")


def prepare(url: str, ideas: int) -> int:
    """Migrate the database at `url` and return its benchmark competition's id, building it
    unless it is there already."""
    from flask_migrate import upgrade

    app = create_app({"DATABASE_URL": url, "MAIL_DELIVERY": "off", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        found = find(ideas)
        if found is None:
            started = time.perf_counter()
            found = seed(ideas)
            print(f"  built: {ideas} ideas, {ideas * PER_IDEA} reviews in {time.perf_counter() - started:.1f} s")
        else:
            print(f"  reusing the competition of {ideas} ideas already in the database")
        if db.engine.dialect.name == "postgresql":  # what autovacuum does within a minute of the load
            with db.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        db.session.remove()
        db.engine.dispose()
    return found.competition_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn -c gunicorn.conf.py 'grantflow:create_app()' on a free loopback port."""

    def __init__(self, url: str, workers: int):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=url, GRANTFLOW_ENV="production", SECRET_KEY=secrets.token_hex(32),
                   MAIL_DELIVERY="off", PORT=str(self.port), HOST="127.0.0.1", WEB_CONCURRENCY=str(workers),
                   GUNICORN_ACCESS_LOG=os.devnull, GUNICORN_LOG_LEVEL="warning")  # fmt: skip
        self.process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "grantflow:create_app()"], cwd=ROOT, env=env
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            self.last_headers = response.headers
            return response.status, data
        finally:
            connection.close()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def cookies(server: Server, jar: dict) -> dict:
    for header in server.last_headers.get_all("Set-Cookie") or []:
        jar.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
    return jar


def log_in(server: Server, email: str, password: str) -> str:
    """The Cookie header of a logged-in administrator (the login form's CSRF token first)."""
    status, page = server.request("GET", "/login")
    jar = cookies(server, {})
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    status, _ = server.request(
        "POST", "/login", urlencode({"csrf_token": token, "email": email, "password": password}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
    )  # fmt: skip
    assert status in (302, 303), f"login answered {status}"
    return "; ".join(f"{k}={v}" for k, v in cookies(server, jar).items())


def load(server: Server, path: str, cookie: str, clients: int, per_client: int, seconds: float):
    """`clients` threads each fetching `path` up to `per_client` times, until `seconds` pass.
    Returns (latencies in ms, wall seconds, bytes of the last page)."""
    latencies, size, errors = [], [0], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        for _ in range(per_client):
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            status, data = server.request("GET", path, headers={"Cookie": cookie})
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status != 200:
                    errors.append(status)
                latencies.append(elapsed)
                size[0] = len(data)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{path}: answers {sorted(set(errors))}")
    return latencies, time.perf_counter() - started, size[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(label: str, url: str, args) -> None:
    print(f"{label}:")
    competition_id = prepare(url, args.ideas)
    server = Server(url, args.workers)
    try:
        cookie = log_in(server, "bench-admin@example.lv", "parole-123456")
        ranking = f"/review/competitions/{competition_id}/ranking"
        pages = (
            ("board, page 1", f"/decide/competitions/{competition_id}"),
            ("ranking, page 1", ranking),
            ("ranking, filtered", f"{ranking}?{urlencode({'target_group': 'youth', 'order': 'normalised'})}"),
            ("ranking, page 50", f"{ranking}?page=50"),
        )
        for _, path in pages:  # every worker warm: imports, templates, compiled statements
            load(server, path, cookie, args.workers, 1, 30)
        print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print(f"  {'page':18} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'KiB':>6}")
        for clients in (1, 8):
            per_client = args.requests if clients == 1 else args.requests * 2
            for name, path in pages:
                latencies, wall, size = load(server, path, cookie, clients, per_client, args.seconds)
                print(f"  {name:18} {clients:7d} {len(latencies):8d} {statistics.median(latencies):8.0f} "
                      f"{percentile(latencies, 95):8.0f} {percentile(latencies, 99):8.0f} "
                      f"{len(latencies) / wall:7.1f} {size / 1024:6.0f}")  # fmt: skip
        print(f"  load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=12, help="per client with 1 client; twice that with 8")
    parser.add_argument("--seconds", type=float, default=10, help="at most this long per page and number of clients")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sqlite-file", help="default: <tmp>/grantflow-bench-read-<ideas>.sqlite3, reused")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    databases = args.databases.split(",")
    print(f"{os.cpu_count()} cores; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if "sqlite" in databases:
        path = args.sqlite_file or Path(tempfile.gettempdir()) / f"grantflow-bench-read-{args.ideas}.sqlite3"
        run("SQLite", f"sqlite:///{path}", args)
    if "postgresql" in databases:
        name = f"grantflow_bench_read_{os.getpid()}"
        admin = create_engine(make_url(args.postgres).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run("PostgreSQL", make_url(args.postgres).set(database=name).render_as_string(hide_password=False), args)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
