"""The read side under load: the funding board and the ranking page of a competition of
N submitted ideas (default 10,000) with 3 submitted reviews each, served by gunicorn in
production mode with the shipped gunicorn.conf.py (4 workers), fetched by 1 and by 8
concurrent clients. Prints p50/p95/p99 and throughput per page, for SQLite and PostgreSQL.
Goals: the board in at most 300 ms; the ranking page's p95 with 8 clients at most 500 ms.

    .venv/bin/python bench/read.py [--ideas 10000] [--databases sqlite,postgresql]
        [--requests 12] [--seconds 10] [--workers 4] [--sqlite-file PATH]

The databases are bench/serving.py's: a new one per run (SQLite in a temporary directory;
PostgreSQL created through GRANTFLOW_TEST_POSTGRES, default
postgresql+psycopg://postgres@127.0.0.1:5432/test, and dropped at the end), migrated and
filled with bench/data.py's competition. With --sqlite-file, that SQLite file is used
instead and kept, and later runs reuse the competition it holds.
Per page and number of clients, each client makes up to --requests requests (1 client) or
--requests × 2 (8 clients, over all of them 8 × that), stopping after --seconds; each
client is a bench/serving.py Browser (one keep-alive connection, reopened when the server
closes it, as gunicorn's sync workers do), logged in as the benchmark's administrator."""

import argparse
import statistics
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.data import PER_IDEA, find, seed  # noqa: E402
from bench.serving import Browser, database, gunicorn, load_average, percentile, production_env  # noqa: E402
from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402


def prepare(url: str, ideas: int):
    """Migrate the database at `url` and return its benchmark competition (bench/data.py's
    Bench), building it unless it is there already."""
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
    return found


def load(base_url: str, cookies: dict, path: str, clients: int, per_client: int, seconds: float):
    """`clients` threads, each a Browser with the logged-in `cookies`, fetching `path` up to
    `per_client` times, until `seconds` pass. Returns (latencies in ms, wall seconds, bytes
    of the last page)."""
    latencies, size, errors = [], [0], []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        browser = Browser(base_url)
        browser.cookies.update(cookies)
        try:
            for _ in range(per_client):
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                status, _, page = browser.request("GET", path)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if status != 200:
                        errors.append(status)
                    latencies.append(elapsed)
                    size[0] = len(page.encode())
        finally:
            browser.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{path}: answers {sorted(set(errors))}")
    return latencies, time.perf_counter() - started, size[0]


def run(label: str, url: str, args) -> None:
    print(f"{label}:")
    bench = prepare(url, args.ideas)
    with gunicorn("grantflow:create_app()", production_env(url), workers=args.workers, timeout=60) as base_url:
        admin = Browser(base_url)
        admin.login(bench.email, bench.password)
        admin.close()
        ranking = f"/review/competitions/{bench.competition_id}/ranking"
        pages = (
            ("board, page 1", f"/decide/competitions/{bench.competition_id}"),
            ("ranking, page 1", ranking),
            ("ranking, filtered", f"{ranking}?{urlencode({'target_group': 'youth', 'order': 'normalised'})}"),
            ("ranking, page 50", f"{ranking}?page=50"),
        )
        for _, path in pages:  # every worker warm: imports, templates, compiled statements
            load(base_url, admin.cookies, path, args.workers, 1, 30)
        print(f"  before: {load_average()}")
        print(f"  {'page':18} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'KiB':>6}")
        for clients in (1, 8):
            per_client = args.requests if clients == 1 else args.requests * 2
            for name, path in pages:
                latencies, wall, size = load(base_url, admin.cookies, path, clients, per_client, args.seconds)
                print(f"  {name:18} {clients:7d} {len(latencies):8d} {statistics.median(latencies):8.0f} "
                      f"{percentile(latencies, 95):8.0f} {percentile(latencies, 99):8.0f} "
                      f"{len(latencies) / wall:7.1f} {size / 1024:6.0f}")  # fmt: skip
        print(f"  after:  {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=12, help="per client with 1 client; twice that with 8")
    parser.add_argument("--seconds", type=float, default=10, help="at most this long per page and number of clients")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sqlite-file", help="a SQLite file to use and keep (reused by later runs); default: a new one")
    args = parser.parse_args()
    print(load_average())
    for kind, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        if kind not in args.databases.split(","):
            continue
        kept = kind == "sqlite" and args.sqlite_file
        with nullcontext(f"sqlite:///{Path(args.sqlite_file).resolve()}") if kept else database(kind) as url:
            run(label, url, args)


if __name__ == "__main__":
    main()
