"""Reminders with a controlled clock: send_due(now) at chosen moments, on both databases."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from grantflow.accounts.models import MUNICIPALITY
from grantflow.adminlog.models import AdminLogEntry
from grantflow.core import queue
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.funding.operations import answer_cooperation
from grantflow.mail.models import OutboxMail
from grantflow.reminders.models import ReminderSettings, SentReminder
from grantflow.reminders.operations import send_due
from tests.conftest import login


def mails(address=None):
    query = select(OutboxMail).order_by(OutboxMail.id)
    if address:
        query = query.where(OutboxMail.to_addr == address)
    return db.session.scalars(query).all()


def test_draft_reminders_go_once_per_person_and_occasion_in_their_language(factory):
    competition = factory.competition()
    closes = competition.closes_at
    org = factory.organisation()
    anna = factory.applicant(org, email="anna@example.lv", locale="lv")
    john = factory.applicant(org, email="john@example.lv", locale="en")
    quiet = factory.applicant(org, email="quiet@example.lv")
    quiet.reminders_off = ["draft"]
    draft = factory.idea(competition=competition, org=org, title="Dārzs")
    factory.submitted(competition=competition, org=factory.organisation(members=[factory.applicant()]))
    db.session.commit()

    assert send_due(closes - timedelta(days=8)) == 0
    assert send_due(closes - timedelta(days=7) + timedelta(hours=1)) == 2
    assert send_due(closes - timedelta(days=7) + timedelta(hours=2)) == 0  # the hourly run again: nothing
    (lv,) = mails(anna.email)
    (en,) = mails(john.email)
    assert en.subject == "Reminder: your idea “Dārzs” is not submitted yet"
    assert lv.subject == "Atgādinājums: jūsu ideja „Dārzs” vēl nav iesniegta"
    assert f"/apply/{draft.id}" in en.body_text and "/profile" in en.body_text
    assert not mails(quiet.email)
    assert send_due(closes - timedelta(hours=20)) == 2  # the one-day reminder
    assert send_due(closes + timedelta(hours=1)) == 0  # closed: no more
    assert len(mails(anna.email)) + len(mails(john.email)) == 4
    keys = db.session.execute(select(SentReminder.user_id, SentReminder.occasion).order_by(SentReminder.id)).all()
    assert sorted(keys) == sorted([(anna.id, "7d"), (john.id, "7d"), (anna.id, "1d"), (john.id, "1d")])


def test_a_run_that_missed_an_earlier_moment_sends_only_the_latest(factory):
    competition = factory.competition()
    factory.idea(competition=competition, org=factory.organisation(members=[factory.applicant(email="late@example.lv")]))
    db.session.commit()
    assert send_due(competition.closes_at - timedelta(hours=5)) == 1
    assert send_due(competition.closes_at - timedelta(hours=4)) == 0
    assert [m.subject for m in mails("late@example.lv")] == ["Atgādinājums: jūsu ideja „Kopienas dārzs” vēl nav iesniegta"]


def test_evaluators_with_unscored_assignments_are_reminded_before_evaluation_closes(factory):
    competition = factory.competition()
    done, late = factory.evaluator(email="done@example.lv"), factory.evaluator(email="late@example.lv", locale="en")
    first = factory.in_review(competition=competition, evaluators=[done, late])
    factory.in_review(competition=competition, evaluators=[late])
    factory.review(first, done)
    now = utcnow()
    competition.closes_at = now - timedelta(days=1)
    competition.evaluation_closes_at = now + timedelta(days=10)
    db.session.add(ReminderSettings.default(competition.id))
    db.session.commit()

    assert send_due(now) == 0
    assert send_due(competition.evaluation_closes_at - timedelta(days=3)) == 1
    assert send_due(competition.evaluation_closes_at - timedelta(days=2)) == 0
    (mail,) = mails(late.email)
    assert mail.subject == "Reminder: ideas waiting for your scores"
    assert "2 ideas assigned to you" in mail.body_text
    assert not mails(done.email)
    assert send_due(competition.evaluation_closes_at - timedelta(hours=3)) == 1


def test_final_reports_due_then_overdue_at_most_n_times(factory):
    competition = factory.competition(report_due=(utcnow() + timedelta(days=60)).date())
    member = factory.applicant(email="report@example.lv", locale="en")
    idea = factory.funded(competition=competition, org=factory.organisation(members=[member]))
    db.session.add(ReminderSettings(competition_id=competition.id, **{**ReminderSettings.DEFAULTS, "report_overdue_max": 2}))
    db.session.commit()
    due = datetime.combine(competition.report_due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)

    moments = [-20, -14, -13, 0, 1, 3, 8, 9, 15, 22, 29]
    sent = [send_due(due + timedelta(days=d)) for d in moments]
    assert sent == [0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0]
    subjects = [m.subject for m in mails(member.email) if "final report" in m.subject]
    assert subjects[0].startswith("Reminder: the final report of") and "is overdue" in subjects[1]
    assert len(subjects) == 3
    # The link opens the report's task list (the shipped report form has sections).
    assert all(f"/reports/{idea.id}/sections" in m.body_text for m in mails(member.email) if "final report" in m.subject)


def test_the_overdue_report_reminder_cannot_be_turned_off_but_the_advance_one_can(factory):
    competition = factory.competition(report_due=(utcnow() + timedelta(days=60)).date())
    member = factory.applicant(email="off@example.lv")
    member.reminders_off = ["report_due", "report_overdue"]  # the second is not optional: ignored
    factory.funded(competition=competition, org=factory.organisation(members=[member]))
    db.session.commit()
    due = datetime.combine(competition.report_due, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    assert send_due(due - timedelta(days=5)) == 0
    assert send_due(due + timedelta(days=1)) == 1


def test_municipality_representatives_are_reminded_of_waiting_confirmations(factory):
    rezekne = factory.municipality("Rēzeknes novads")
    rep = factory.user(MUNICIPALITY, email="rep@example.lv", municipality=rezekne)
    factory.user(MUNICIPALITY, email="elsewhere@example.lv", municipality=factory.municipality("Ludzas novads"))
    waiting = factory.submitted(org=factory.organisation(municipality=rezekne), title="Gaida")
    confirmed = factory.submitted(org=factory.organisation(municipality=rezekne), title="Apstiprināta")
    db.session.commit()
    answer_cooperation(confirmed, rep, confirmed=True, comment="")
    now = utcnow()
    assert send_due(now + timedelta(days=6)) == 0
    assert send_due(now + timedelta(days=8)) == 1
    assert send_due(now + timedelta(days=9)) == 0
    assert not mails("elsewhere@example.lv")
    (mail,) = mails("rep@example.lv")
    assert waiting.reference in mail.subject
    assert f"/ideas/{waiting.id}/cooperation" in mail.body_text


def test_two_runs_at_once_send_each_reminder_once(app, factory):
    competition = factory.competition()
    for n in range(6):
        factory.idea(competition=competition, org=factory.organisation(members=[factory.applicant(email=f"a{n}@example.lv")]))
    db.session.commit()
    moment = competition.closes_at - timedelta(days=1)
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(send_due(moment))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(results) == 6
    db.session.rollback()  # read what the runs committed, not this session's earlier snapshot
    assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.to_addr.like("a_@example.lv"))) == 6
    assert db.session.scalar(select(func.count()).select_from(SentReminder)) == 6


def test_the_schedule_is_refused_beside_the_field_when_it_reminds_after_the_deadline(client, factory):
    admin = factory.admin(locale="en")
    competition = factory.competition(opens_at=utcnow() - timedelta(days=5))
    db.session.commit()
    login(client, admin.email)
    page = client.get(f"/competitions/{competition.id}/reminders")
    assert page.status_code == 200 and 'value="7,1"' in page.get_data(as_text=True)
    form = {"draft_days": "7, -2", "evaluation_days": "", "report_due_days": "0", "report_overdue_every": "7",
            "report_overdue_max": "3", "confirmation_wait_days": "7"}  # fmt: skip
    response = client.post(f"/competitions/{competition.id}/reminders", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="draft_days-error"' in html and "before the deadline" in html and 'value="7, -2"' in html
    response = client.post(f"/competitions/{competition.id}/reminders", data={**form, "draft_days": "30"})
    assert response.status_code == 422 and "before the competition opens" in response.get_data(as_text=True)
    competition.evaluation_closes_at = competition.closes_at + timedelta(days=3)
    db.session.commit()
    response = client.post(f"/competitions/{competition.id}/reminders", data={**form, "evaluation_days": "3, 5"})
    assert response.status_code == 422 and "before the competition closes" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReminderSettings)) == 0
    assert not db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "reminders_changed")).all()

    response = client.post(f"/competitions/{competition.id}/reminders", data={**form, "draft_days": "1, 3 ,2"})
    assert response.status_code == 303
    row = db.session.get(ReminderSettings, competition.id)
    assert row.draft_days == "3,2,1" and row.report_due_days == 0
    (entry,) = db.session.scalars(select(AdminLogEntry).where(AdminLogEntry.kind == "reminders_changed")).all()
    assert entry.actor_id == admin.id and entry.before["draft_days"] == "7,1" and entry.after["draft_days"] == "3,2,1"


def test_a_person_turns_off_the_optional_reminders_on_their_profile(client, factory):
    person = factory.applicant(email="me@example.lv")
    db.session.commit()
    login(client, person.email)
    assert "Atgādinājumi, kurus nevēlos saņemt" in client.get("/profile").get_data(as_text=True)
    response = client.post("/profile", data={"name": "Es", "locale": "lv", "reminders_off": ["report_overdue"]})
    assert response.status_code == 422
    assert client.post("/profile", data={"name": "Es", "locale": "lv", "reminders_off": ["draft"]}).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(person), person.id).reminders_off == ["draft"]


def test_the_hourly_run_is_declared():
    assert "reminders.send" in queue.periodic_names()


def test_every_reminder_mail_is_written_in_both_languages(factory):
    from grantflow.mail.operations import render_mail

    competition = factory.competition(report_due=utcnow().date(), evaluation_closes_at=utcnow() + timedelta(days=20))
    idea = factory.submitted(competition=competition)
    context = {"idea": idea, "competition": competition, "count": 2, "due": competition.report_due}
    for template in ("reminder_draft", "reminder_evaluation", "reminder_report_due", "reminder_report_overdue",
                     "reminder_confirmation"):  # fmt: skip
        lv, en = render_mail(template, "lv", **context), render_mail(template, "en", **context)
        lv_lines = [line for line in (lv[0] + "\n" + lv[1]).splitlines() if line.strip()]
        en_lines = [line for line in (en[0] + "\n" + en[1]).splitlines() if line.strip()]
        assert len(lv_lines) == len(en_lines), template
        for lv_line, en_line in zip(lv_lines, en_lines, strict=True):
            assert lv_line != en_line, f"{template}: not translated: {en_line}"
        assert "{{" not in lv[1] and "%(" not in lv[1] and "%(" not in en[1]


def test_a_run_costs_the_same_queries_for_many_reminders_as_for_few(factory):
    from tests.querycount import count_queries

    def world(n):
        rezekne = factory.municipality("Rēzeknes novads")
        competition = factory.competition()
        factory.user(MUNICIPALITY, municipality=rezekne)
        for _ in range(n):
            org = factory.organisation(municipality=rezekne, members=[factory.applicant()])
            factory.idea(competition=competition, org=org)
            factory.submitted(competition=competition, org=org)
        db.session.commit()
        return competition

    few = world(1)
    with count_queries(db.engine) as one:
        send_due(few.closes_at - timedelta(hours=1))
    many = world(5)
    with count_queries(db.engine) as five:
        send_due(many.closes_at - timedelta(hours=1))
    selects = [len([s for s in run if s.lstrip().upper().startswith("SELECT")]) for run in (one, five)]
    assert selects[0] == selects[1], selects


def test_an_idea_returned_for_changes_is_a_draft_again_and_is_reminded(factory):
    from grantflow.workflow import engine

    competition = factory.competition()
    idea = factory.submitted(competition=competition, org=factory.organisation(members=[factory.applicant(email="back@example.lv")]))
    engine.fire(idea, "return_for_changes", factory.admin(), "Lūdzu, papildiniet budžetu.")
    db.session.commit()
    assert idea.has_tag("editable") and idea.submitted_at is not None
    assert send_due(competition.closes_at - timedelta(hours=2)) == 1
    assert [m.subject for m in mails("back@example.lv") if m.subject.startswith("Atgādinājums")]


def test_two_stage_drafts_are_reminded_before_their_own_stages_deadline_in_riga_time(app, factory, smtp_server):
    """A concept draft before the concept's deadline; once invited, the full proposal's draft
    before the proposal's (Riga time in the mail), each once per person, idea and occasion: the
    proposal's 7-day reminder is not taken for the concept's."""
    from grantflow.core.i18n import format_when
    from grantflow.mail.operations import send_pending

    competition = factory.competition(workflow="concept_proposal", title_en="Two stages")
    concept, proposal = competition.stages
    proposal.opens_at = concept.closes_at
    proposal.closes_at = (concept.closes_at + timedelta(days=30)).replace(hour=21, minute=30, second=0, microsecond=0)
    anna = factory.applicant(email="stages-lv@example.lv", locale="lv")
    john = factory.applicant(anna.memberships[0].organisation, email="stages-en@example.lv", locale="en")
    idea = factory.idea(competition=competition, org=anna.memberships[0].organisation, title="Taka")
    waiting = factory.idea(competition=competition, org=factory.organisation(members=[factory.applicant()]))
    db.session.commit()
    assert send_due(proposal.closes_at - timedelta(days=40)) == 0  # before either stage's moment

    # The concept's reminders, by the concept's deadline.
    assert send_due(concept.closes_at - timedelta(days=7) + timedelta(hours=1)) == 3
    assert send_due(concept.closes_at - timedelta(days=7) + timedelta(hours=2)) == 0
    (concept_mail,) = mails(john.email)
    assert format_when(concept.closes_at, "en") in concept_mail.body_text and "“Concept”" in concept_mail.body_text

    # Invited: the idea is at the proposal's stage (its first state, as the workflow declares).
    idea.state = idea.workflow.stages["proposal"].states[0]
    db.session.commit()
    assert send_due(concept.closes_at - timedelta(hours=20)) == 1  # only the other concept still a draft
    assert send_due(proposal.closes_at - timedelta(days=7) + timedelta(hours=1)) == 2  # not taken for the concept's
    assert send_due(proposal.closes_at - timedelta(days=7) + timedelta(hours=3)) == 0
    assert send_due(proposal.closes_at - timedelta(hours=20)) == 2
    assert send_due(proposal.closes_at + timedelta(hours=1)) == 0
    keys = db.session.execute(
        select(SentReminder.object_id, SentReminder.occasion).where(SentReminder.user_id == john.id)
    ).all()
    assert sorted(keys) == [(idea.id, "stage1-7d"), (idea.id, "stage2-1d"), (idea.id, "stage2-7d")]
    assert waiting.id not in {object_id for object_id, _ in keys}

    # The mails, as they arrive: the proposal's deadline in Riga time, in each one's language.
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    send_pending()
    riga_en, riga_lv = format_when(proposal.closes_at, "en"), format_when(proposal.closes_at, "lv")
    assert not riga_en.endswith("21:30")  # 21:30 UTC is 23:30 (or 00:30 in summer) in Riga
    english = [m.get_content() for m in smtp_server.to(john.email)]
    latvian = [m.get_content() for m in smtp_server.to(anna.email)]
    assert len(english) == len(latvian) == 3
    assert sum(riga_en in body and "“Full proposal”" in body for body in english) == 2
    assert sum(riga_lv in body and "„Pilns projekts”" in body for body in latvian) == 2
    assert all(f"/apply/{idea.id}/sections" in body for body in english)
