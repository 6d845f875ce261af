"""What the serving benchmarks share: a database made for the run, GrantFlow (or another WSGI
app) served by gunicorn in production mode on a free loopback port, and a small browser that
keeps its cookies and sends forms with their CSRF token, as a person's browser would.

Traffic goes only to 127.0.0.1; every loop is bounded in count and time."""

import html.parser
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("GRANTFLOW_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database(kind: str):
    """A new, empty database URL of `kind` ("sqlite" or "postgresql"), removed afterwards.
    PostgreSQL: a schema of its own in the GRANTFLOW_TEST_POSTGRES database, which every
    connection to the URL works in (search_path); dropping a schema is immediate, where
    dropping a database makes the server write a checkpoint."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="grantflow-bench-") as folder:
            yield f"sqlite:///{folder}/grantflow.sqlite3"
        return
    admin_url = sa.make_url(PG_ADMIN_URL)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"grantflow_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    options = f"{admin_url.query.get('options', '')} -c search_path={name}".strip()
    url = admin_url.update_query_dict({"options": options, "application_name": name})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"), {"n": name})
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def production_env(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "GRANTFLOW_ENV": "production",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "MAIL_DELIVERY": "off",  # mail goes out from its own process; not what is measured here
        "PUBLIC_URL": "https://grantflow.bench",
        **extra,
    }


@contextmanager
def gunicorn(app: str, env: dict, workers: int = 4, timeout: float = 30):
    """Serve `app` ("module:factory()") with gunicorn; yields the base URL. Logs go to a file
    printed if start-up fails."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "60", "--graceful-timeout", "5", "--access-logfile", "-", "--error-logfile", "-",
    ]
    config = ROOT / "gunicorn.conf.py"
    if config.exists():
        command[3:3] = ["--config", str(config)]
    process = subprocess.Popen([*command, app], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + Path(log.name).read_text()[-3000:]) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        os.unlink(log.name)


class _Form(html.parser.HTMLParser):
    """The fields of the page's forms, as a browser would send them (first form with a given
    action wins); checkboxes only when checked, selects with their selected option, text
    areas without the newline that opens them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": []})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file", "image"):
                return
            fields.append([a["name"], a.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            fields.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], None]
            fields.append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in a:
                self._select[1] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            # A newline right after <textarea> is not part of its value (HTML's parsing rules;
            # WTForms writes one there): browsers send the text without it.
            if self._textarea is not None and self._textarea[1][:1] in ("\r", "\n"):
                self._textarea[1] = self._textarea[1].removeprefix("\r").removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            if self._select is not None and self._select[1] is None:
                self._select[1] = ""
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_fields(page: str, action: str | None = None) -> list[tuple[str, str]]:
    parser = _Form()
    parser.feed(page)
    for form in parser.forms:
        if action is None or form["action"] == action:
            return [(name, value or "") for name, value in form["fields"]]
    raise LookupError(f"no form {action!r} on the page")


class Browser:
    """One person's browser: a keep-alive connection and a cookie jar. Cookies marked Secure
    are sent back over plain http too: the production server sets them, and the benchmark
    talks to it over loopback without TLS."""

    def __init__(self, base_url: str, timeout: float = 60):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}
        self.connection = None

    def request(self, method: str, path: str, fields=None) -> tuple[int, str, str]:
        """(status, Location, body), timed by the caller."""
        body = urlencode(fields).encode() if fields is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again once
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                self.connection = None
                if attempt == 2 or method != "GET":
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response.getheader("Location", ""), text

    def get(self, path: str) -> str:
        status, _, text = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return text

    def login(self, email: str, password: str) -> None:
        fields = dict(form_fields(self.get("/login")))
        fields.update(email=email, password=password)
        status, location, _ = self.request("POST", "/login", list(fields.items()))
        if status not in (302, 303):
            raise RuntimeError(f"login of {email}: {status}")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no requests"
    ms = [1000 * x for x in latencies]
    return (
        f"p50 {percentile(ms, 50):6.0f} ms  p95 {percentile(ms, 95):6.0f} ms  p99 {percentile(ms, 99):6.0f} ms"
        f"  (mean {statistics.fmean(ms):.0f} ms)"
    )


def busy_seconds() -> float | None:
    """CPU time the whole machine has spent busy so far, all processes together (Linux's
    /proc/stat; None elsewhere). A burst is CPU-bound here, and its wall time swings with
    whatever else the machine does; the CPU it took per request is the steadier figure for
    comparing two versions of the code."""
    try:
        with open("/proc/stat") as stat:
            user, nice, system, idle, iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def cpu_by_process() -> dict[str, float]:
    """CPU seconds spent so far by the processes alive now, grouped: "app" (gunicorn's master
    and workers), "database" (PostgreSQL's backends), "clients" (this benchmark). Taken before
    and after a burst, the difference says where a request's CPU goes (Linux's /proc; empty
    elsewhere). A process that ended between the two readings is missing from the second."""
    groups: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().decode(errors="replace")
        except OSError:
            continue
        if int(pid) == os.getpid():
            group = "clients"
        elif "gunicorn" in command:
            group = "app"
        elif command.startswith("postgres"):
            group = "database"
        else:
            continue
        groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return groups


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"
