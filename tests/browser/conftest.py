"""Browser journeys: the app served on loopback with the demo data, driven by a real
Chromium (Debian's, through Playwright; no browser download). Without Chromium these tests
skip and say so, unless GRANTFLOW_REQUIRE_BROWSER=1 (CI), when they fail."""

import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from grantflow import create_app
from grantflow.core.extensions import db
from tests.conftest import BASE_CONFIG

CHROMIUM = os.environ.get("GRANTFLOW_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("GRANTFLOW_REQUIRE_BROWSER") == "1"
# Assertions wait as long as actions do (the pages' default time-out below) for the page to
# show what they expect.
expect.set_options(timeout=10_000)

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(database_dir, sqlite_template, mail_sink):
    """The app with the demo data on http://127.0.0.1:<free port>; mail goes to `mail_sink`."""
    path = database_dir / "live.sqlite3"
    shutil.copy(sqlite_template, path)
    app = create_app(
        {
            **BASE_CONFIG,
            "TESTING": False,
            "WTF_CSRF_ENABLED": True,
            "DATABASE_URL": f"sqlite:///{path}",
            "MAIL_DELIVERY": "inline",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mail_sink.port,
        }
    )
    with app.app_context():
        from grantflow.demo.operations import load_demo

        load_demo()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app = app
    server.url = app.config["PUBLIC_URL"]
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (sudo apt-get install chromium)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (no cookies) on a desktop-sized window."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="lv-LV")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server):
    """A fresh browser profile on a narrow phone screen."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, email: str, password: str) -> None:
    """Log in through the form and wait for the answer: the logged-in page (with its log-out
    button) or the login page again with an error."""
    page.goto("/login")
    page.get_by_label("E-pasts").fill(email)
    page.get_by_label("Parole").fill(password)
    page.get_by_role("button", name="Ienākt").click()
    expect(page.get_by_role("button", name="Iziet").or_(page.get_by_role("alert")).first).to_be_visible()


def log_out(page) -> None:
    """Log out and wait until the site shows the logged-out header."""
    page.get_by_role("button", name="Iziet").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Ienākt")).to_be_visible()
