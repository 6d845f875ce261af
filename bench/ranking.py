"""Fills one competition with N ideas (default 10,000), each scored by 3 of 12 evaluators,
then times the ranking page (first page of 100, with the running total over all) through the
test client, and prints the median server time. (The CSV/XLSX of every idea is built on the
task queue by the exports area, not in a request.)
Goal: the page under 300 ms.

    .venv/bin/python bench/ranking.py [--ideas 10000] [--runs 15] [--database-url postgresql+psycopg://...]

Without --database-url a fresh SQLite file in a temporary directory is used. With it, the
database is migrated and the benchmark's competition added (use an empty database).
The data is built by bench/data.py (bulk inserts), shared with bench/read.py."""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.data import PER_IDEA, seed  # noqa: E402
from grantflow import create_app  # noqa: E402
from grantflow.core.extensions import db  # noqa: E402


def timed(client, url: str, runs: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        size = len(response.get_data())
    return statistics.median(times) * 1000, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "MAIL_DELIVERY": "off", "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            started = time.perf_counter()
            bench = seed(args.ideas)
            print(f"{db.engine.dialect.name}: {args.ideas} ideas, {args.ideas * PER_IDEA} reviews "
                  f"inserted in {time.perf_counter() - started:.1f} s")  # fmt: skip
        client = app.test_client()
        client.post("/login", data={"email": bench.email, "password": bench.password})
        base = f"/review/competitions/{bench.competition_id}"
        client.get(f"{base}/ranking")  # warm up caches and compiled statements
        for label, path in (
            ("ranking page (100 rows)", f"{base}/ranking"),
            ("ranking page, filtered", f"{base}/ranking?target_group=youth&order=normalised"),
        ):
            median, size = timed(client, path, args.runs)
            print(f"{label:28} median {median:7.1f} ms over {args.runs} runs ({size / 1024:.0f} KiB)")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
