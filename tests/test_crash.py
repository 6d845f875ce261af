"""A gunicorn worker killed (SIGKILL, no clean-up) in the middle of a crowd of submissions
leaves the database consistent, on both databases: every idea is either still a draft with no
reference, no submit audit row and no receipt mail, or submitted exactly once with its
reference, one submit audit row and its receipt mail in the outbox — never half. No receipt is
lost, no reference number skipped; the drafts left go through when submitted again.

No hook in the app: the workers are found as children of the gunicorn master and all killed
at once while many submissions are in flight (the workers are synchronous and the queue is
long, so each is inside a request; killing one alone proved nothing when, on a loaded machine,
it was between two requests at that moment)."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.serving import Browser, database, form_fields, gunicorn, production_env
from bench.surge import Outcome, check, prepare
from grantflow import create_app
from grantflow.core.extensions import db
from grantflow.ideas.models import Idea
from grantflow.mail.models import OutboxMail
from grantflow.workflow.models import AuditEntry
from tests.factories import PASSWORD

CLIENTS, WORKERS = 40, 2


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _master(port: str) -> int:
    for pid in _children(os.getpid()):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if "gunicorn" in cmdline and f":{port}" in cmdline:
            return pid
    raise AssertionError("gunicorn master not found")


def _ready(base_url, email, idea_id):
    browser = Browser(base_url)
    browser.login(email, PASSWORD)
    fields = [(k, v) for k, v in form_fields(browser.get(f"/apply/{idea_id}"), f"/apply/{idea_id}") if k != "action"]
    return browser, [*fields, ("action", "submit")]


def _submit(browser, idea_id, fields) -> bool:
    status, location, _ = browser.request("POST", f"/apply/{idea_id}", fields)
    return status == 303 and location.endswith(f"/ideas/{idea_id}")


def _audit(url, ids) -> tuple[dict, list[str]]:
    """Each idea's state as (submitted?, reference), and what is only half there."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "crash", "MAIL_DELIVERY": "off"})
    problems, states = [], {}
    with app.app_context():
        submits = {}
        for idea_id in db.session.scalars(select(AuditEntry.idea_id).where(AuditEntry.trigger == "submit")):
            submits[idea_id] = submits.get(idea_id, 0) + 1
        mails = {}
        for job in db.session.scalars(select(OutboxMail.attachment_job)):
            if job and job.get("maker") == "receipt_copy":
                mails[job["idea_id"]] = mails.get(job["idea_id"], 0) + 1
        for idea in db.session.scalars(select(Idea).where(Idea.id.in_(ids))):
            filed, reference = idea.has_tag("filed"), idea.reference
            parts = (filed, bool(reference), submits.get(idea.id, 0), mails.get(idea.id, 0))
            if filed and not (reference and parts[2] == 1 and parts[3] >= 1):
                problems.append(f"idea {idea.id} half submitted: {idea.state}, {parts}")
            if not filed and (reference or parts[2] or parts[3]):
                problems.append(f"idea {idea.id} half a draft: {idea.state}, {parts}")
            states[idea.id] = filed
        db.session.remove()
        db.engine.dispose()
    return states, problems


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_worker_killed_during_submissions_leaves_every_idea_whole(kind, request, capsys):
    if kind == "postgresql":
        request.getfixturevalue("postgres_url")  # skips (or fails under CI) without a server
    with database(kind) as url:
        people = prepare(url, CLIENTS)
        ids = [idea_id for _, idea_id in people]
        with gunicorn("grantflow:create_app()", production_env(url), workers=WORKERS) as base_url:
            master = _master(base_url.rsplit(":", 1)[1])
            with ThreadPoolExecutor(max_workers=16) as pool:
                ready = list(pool.map(lambda p: (p[1], *_ready(base_url, *p)), people))
            workers = _children(master)
            assert len(workers) == WORKERS
            lock, counts, answered, dropped = threading.Lock(), {"started": 0, "done": 0}, set(), []
            barrier = threading.Barrier(len(ready) + 1)

            def go(idea_id, browser, fields):
                barrier.wait(timeout=60)
                with lock:
                    counts["started"] += 1
                try:
                    ok = _submit(browser, idea_id, fields)
                except Exception as error:  # the killed worker's connection
                    with lock:
                        dropped.append((idea_id, type(error).__name__))
                        counts["done"] += 1
                    return
                with lock:
                    counts["done"] += 1
                    if ok:
                        answered.add(idea_id)

            threads = [threading.Thread(target=go, args=job) for job in ready]
            for thread in threads:
                thread.start()
            barrier.wait(timeout=60)
            deadline = time.monotonic() + 30
            while counts["done"] < 3 and time.monotonic() < deadline:
                time.sleep(0.002)
            with lock:
                in_flight = counts["started"] - counts["done"]
                done_before = counts["done"]
            for victim in workers:
                os.kill(victim, signal.SIGKILL)
            for thread in threads:
                thread.join(timeout=120)
            # gunicorn replaces the workers
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                now = _children(master)
                if len(now) == WORKERS and not set(workers) & set(now):
                    break
                time.sleep(0.1)
            else:
                pytest.fail(f"gunicorn did not replace the killed workers: {_children(master)}")

            assert dropped, "the killed workers were answering no request: nothing was proven"
            states, problems = _audit(url, ids)
            assert problems == []
            assert answered <= {i for i, filed in states.items() if filed}  # told "submitted": it is
            drafts = [i for i, filed in states.items() if not filed]
            submitted_first = len(ids) - len(drafts)

            # The drafts left go through when sent again.
            again = {}
            emails = {idea_id: email for email, idea_id in people}
            for idea_id in drafts:
                fresh, fields = _ready(base_url, emails[idea_id], idea_id)
                again[idea_id] = _submit(fresh, idea_id, fields)
                fresh.close()
            for _, browser, _ in ready:
                browser.close()
        assert all(again.values()), again
        states, problems = _audit(url, ids)
        assert problems == [] and all(states.values())
        outcome = Outcome(len(ids))
        outcome.acknowledged = set(ids)
        check(url, people, outcome)  # references 1..n, none skipped; one receipt copy each once sent
        assert outcome.problems == []
    with capsys.disabled():
        print(
            f"\n{kind}: killed workers {workers} with {in_flight} submissions in flight ({done_before} answered before);"
            f" {len(dropped)} connections dropped; {submitted_first}/{len(ids)} submitted, {len(drafts)} left drafts"
            f" ({len(answered)} acknowledged); the {len(again)} drafts submitted again: all went through"
        )
