"""Building blocks for tests: users, organisations, competitions and ideas in a given state,
moved there through the real workflow engine."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy import select

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, EVALUATOR, User
from grantflow.competitions.models import Competition
from grantflow.competitions.operations import add_default_criteria
from grantflow.core.extensions import db
from grantflow.core.types import utcnow
from grantflow.ideas.models import BudgetLine, Idea, IdeaActivity
from grantflow.ideas.operations import recompute_budget
from grantflow.organisations.models import Membership, Organisation
from grantflow.review.models import Assignment, EligibilityCheck, Review, Score
from grantflow.review.operations import refresh_score, weighted_total
from grantflow.review.rounds import current_round_id
from grantflow.territory.models import Municipality
from grantflow.workflow import engine

PASSWORD = "parole-123456"
_seq = count(1)

# Hashing a password is slow on purpose; tests share one hash.
_HASH = None


def _password_hash():
    global _HASH
    if _HASH is None:
        from werkzeug.security import generate_password_hash

        _HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    return _HASH


def register_number(n: int) -> str:
    """A valid Latvian register number (a legal entity's, with its check digit), unique per n."""
    from stdnum.lv.pvn import checksum

    for prefix in ("4000", "4001"):  # one of the two always admits a check digit 0-9
        body = f"{prefix}{n % 1_000_000:06d}"
        for digit in "0123456789":
            if checksum(body + digit) == 3:
                return body + digit
    raise AssertionError("unreachable")


class Factory:
    def municipality(self, name="Rēzeknes novads") -> Municipality:
        return db.session.scalars(select(Municipality).where(Municipality.name == name)).one()

    def user(self, *roles, email=None, name=None, locale="lv", municipality=None) -> User:
        n = next(_seq)
        user = User(
            email=email or f"user{n}@example.lv",
            name=name or f"Lietotājs {n}",
            password_hash=_password_hash(),
            locale=locale,
            email_confirmed_at=utcnow(),
        )
        for role in roles:
            user.grant(role)
        if municipality is not None:
            user.municipalities = [municipality]
        db.session.add(user)
        db.session.flush()
        return user

    def admin(self, **kw) -> User:
        return self.user(ADMINISTRATOR, **kw)

    def evaluator(self, **kw) -> User:
        return self.user(EVALUATOR, **kw)

    def organisation(self, name=None, members=(), municipality=None, legal_form="association") -> Organisation:
        n = next(_seq)
        org = Organisation(
            name=name or f'biedrība "Kopiena {n}"',
            legal_form=legal_form,
            registration_number=register_number(n),
            iban="LV80BANK0000435195001",
            address="Skolas iela 1",
            signatory_name="Anna Bērziņa",
            signatory_position="valdes priekšsēdētāja",
            municipality=municipality or self.municipality(),
        )
        db.session.add(org)
        for member in members:
            db.session.add(Membership(user=member, organisation=org))
        db.session.flush()
        return org

    def applicant(self, org=None, **kw) -> User:
        user = self.user(APPLICANT, **kw)
        org = org or self.organisation()
        db.session.add(Membership(user=user, organisation=org))
        db.session.flush()
        return user

    def competition(self, workflow="community_ideas", budget="10000.00", open_=True, **kw) -> Competition:
        now = utcnow()
        n = next(_seq)
        evaluation_closes_at = kw.pop("evaluation_closes_at", None)  # the first review round's
        competition = Competition(
            code=kw.pop("code", f"T{n}-2026"),
            title_lv=kw.pop("title_lv", f"Konkurss {n}"),
            title_en=kw.pop("title_en", f"Competition {n}"),
            opens_at=kw.pop("opens_at", now - timedelta(days=10)),
            closes_at=kw.pop("closes_at", now + timedelta(days=10) if open_ else now - timedelta(days=1)),
            budget=Decimal(budget),
            min_grant=Decimal(kw.pop("min_grant", "100.00")),
            max_grant=Decimal(kw.pop("max_grant", "2000.00")),
            workflow=workflow,
            **kw,
        )
        add_default_criteria(competition)
        competition.evaluation_closes_at = evaluation_closes_at
        db.session.add(competition)
        db.session.flush()
        return competition

    def idea(self, competition=None, org=None, amount="1000.00", title=None, **kw) -> Idea:
        competition = competition or self.competition()
        org = org or self.organisation()
        from grantflow.workflow.registry import workflow_for

        idea = Idea(
            competition=competition,
            organisation=org,
            state=workflow_for(competition.workflow).initial,
            title="Kopienas dārzs" if title is None else title,
            summary="Kopīgs dārzs ģimenēm un senioriem.",
            community_need="Ciemā nav vietas, kur satikties.",
            goals="Satikties un kopā strādāt.",
            sustainability="Dārzu turpinās kopt biedrība.",
            target_groups=["families_with_children", "seniors"],
            expected_participants=50,
            contact_name="Anna Bērziņa",
            contact_email="anna@example.lv",
            municipality=org.municipality,
            **kw,
        )
        idea.activities = [IdeaActivity(position=1, description="Talka", starts_on=(competition.closes_at + timedelta(days=30)).date())]
        idea.budget_lines = [BudgetLine(position=1, item="Dēļi", quantity=Decimal("1"), unit_cost=Decimal(amount))]
        recompute_budget(idea)
        db.session.add(idea)
        db.session.flush()
        return idea

    def member_of(self, org) -> User:
        return org.memberships[0].user if org.memberships else self.applicant(org)

    # --- moving ideas through the default workflow ----------------------------------------
    def submitted(self, **kw) -> Idea:
        """Submitted through the engine (its receipt's PDF copy is made only when the receipt
        mail is sent, so submitting renders nothing)."""
        idea = self.idea(**kw)
        engine.fire(idea, idea.workflow.part("submit"), self.member_of(idea.organisation))
        return idea

    def in_review(self, evaluators=None, **kw) -> Idea:
        idea = self.submitted(**kw)
        admin = self.admin()
        db.session.add(EligibilityCheck(idea_id=idea.id, checklist={}, eligible=True, checked_by_id=admin.id))
        engine.fire(idea, idea.workflow.part("screen_accept"), admin)
        for evaluator in evaluators if evaluators is not None else [self.evaluator(), self.evaluator()]:
            db.session.add(Assignment(idea_id=idea.id, evaluator_id=evaluator.id, assigned_by_id=admin.id,
                                      round_id=current_round_id(idea)))
        db.session.flush()
        return idea

    def review(self, idea, evaluator, points=8, submit=True) -> Review:
        assignment = db.session.scalars(
            select(Assignment).where(Assignment.idea_id == idea.id, Assignment.evaluator_id == evaluator.id,
                                     Assignment.round_id == current_round_id(idea))
        ).one()
        review = Review(assignment=assignment, idea_id=idea.id, evaluator_id=evaluator.id, recommendation="fund",
                        round_id=assignment.round_id)
        db.session.add(review)
        for criterion in assignment.round.criteria:
            review.scores.append(Score(criterion=criterion, points=Decimal(points)))
        if submit:
            review.status = "submitted"
            review.submitted_at = utcnow()
            review.total = weighted_total(review.scores)
        refresh_score(idea)  # as review.operations.save_review does
        engine.settle(idea)
        return review

    def reviewed(self, points=8, **kw) -> Idea:
        evaluators = [self.evaluator(), self.evaluator()]
        idea = self.in_review(evaluators=evaluators, **kw)
        for evaluator in evaluators:
            self.review(idea, evaluator, points)
        return idea

    def funded(self, amount=None, **kw) -> Idea:
        idea = self.reviewed(**kw)
        params = {"amount": Decimal(amount)} if amount else {}
        engine.fire(idea, idea.workflow.part("fund"), self.admin(), **params)
        return idea
