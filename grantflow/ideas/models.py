"""Ideas (applications) and what an applicant files with them."""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, and_, false, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import CreateIndex

from grantflow.accounts.models import ADMINISTRATOR, APPLICANT, MUNICIPALITY
from grantflow.competitions.models import Competition
from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow
from grantflow.questionnaires.models import Answer, FormVersion
from grantflow.workflow.registry import (
    capable,
    loaded_workflows,
    role,
    role_scopes,
    roles_of,
    staff_roles,
    workflow_for,
)

TARGET_GROUPS = (
    "families_with_children",
    "youth",
    "less_active_youth",
    "men_over_35",
    "ethnic_minorities",
    "seniors",
    "special_needs",
    "other",
)


# What kind of partner a partner is, with its label.
PARTNER_KINDS = {
    "organisation": _l("Organisation"),
    "business": _l("Business"),
    "municipality": _l("Municipality"),
}


class Idea(db.Model):
    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Given on submission, never reused: DK-2025-0042.
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    state: Mapped[str] = mapped_column(String(40), index=True)
    # The optimistic lock: moved on by workflow.engine.bump_version, in every transition and
    # every operation that changes the content, with the old version in the WHERE clause, so
    # a concurrent writer or a form showing an older version fails (see engine.py).
    version: Mapped[int] = mapped_column(default=1)

    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    target_groups: Mapped[list] = mapped_column(JSON, default=list)
    expected_participants: Mapped[int | None] = mapped_column()
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")

    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"), index=True)
    parish_id: Mapped[int | None] = mapped_column(ForeignKey("parishes.id"))
    place: Mapped[str] = mapped_column(String(200), default="")
    # The applicant's answer to "may the programme publish the idea's summary and results?":
    # the public pages show those texts only when it is yes. No until they say yes.
    publish_consent: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Derived from the budget lines by the server on every save; kept for ranking queries.
    requested_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    own_contribution: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    # Every answer to the application form, one JSON document (questionnaires.answers), and
    # the form version it was given under. Answers whose question declares a meaning are also
    # kept in the typed columns and child tables above and below (what ranking, funding,
    # documents, exports and the API read); the others live only here, read and written as
    # attributes (below: idea.goals).
    answers: Mapped[dict | None] = mapped_column(JSON, default=dict)
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    # What the applicant typed that the server could not take as it was (a number that is not
    # one, a text too long): form field name -> the text, kept so nothing typed is lost.
    draft_raw: Mapped[dict | None] = mapped_column(JSON, default=dict)
    # What the ranking orders by: the mean weighted total of the submitted reviews of active
    # assignments, rounded to hundredths as shown; None without one. Kept by the review area
    # (review.operations.refresh_score) whenever a review or an assignment changes, so the
    # ranking and the funding board read it along ix_ideas_ranking instead of grouping every
    # review of the competition.
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))

    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The community-ideas form's questions without a meaning: in the answers document only.
    community_need = Answer()
    goals = Answer()
    less_active_reach = Answer()
    coop_premises = Answer()
    coop_inventory = Answer()
    coop_upkeep = Answer()
    sustainability = Answer()

    competition: Mapped[Competition] = relationship()
    form_version: Mapped[FormVersion | None] = relationship()
    organisation: Mapped["Organisation"] = relationship()  # noqa: F821
    municipality: Mapped["Municipality | None"] = relationship()  # noqa: F821
    parish: Mapped["Parish | None"] = relationship()  # noqa: F821
    activities: Mapped[list["IdeaActivity"]] = relationship(
        back_populates="idea", order_by="IdeaActivity.position", cascade="all, delete-orphan"
    )
    budget_lines: Mapped[list["BudgetLine"]] = relationship(
        back_populates="idea", order_by="BudgetLine.position", cascade="all, delete-orphan"
    )
    partners: Mapped[list["Partner"]] = relationship(
        back_populates="idea", order_by="Partner.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="idea",
        cascade="all, delete-orphan",
        order_by="Attachment.id",
        primaryjoin="and_(Idea.id == Attachment.idea_id, Attachment.report_id.is_(None))",
    )

    # The frozen submissions of its stages (a concept, then a full proposal), oldest first.
    revisions: Mapped[list["IdeaRevision"]] = relationship(
        back_populates="idea", order_by="IdeaRevision.id", cascade="all, delete-orphan"
    )

    # --- workflow -------------------------------------------------------------------------
    @property
    def workflow(self):
        return workflow_for(self.competition.workflow)

    @property
    def state_def(self):
        return self.workflow.states[self.state]

    def has_tag(self, tag: str) -> bool:
        return tag in self.state_def.tags

    # --- permissions: the one place that says who may do what with an idea ---------------
    def roles_of(self, user) -> frozenset[str]:
        """The roles `user` holds with respect to this idea, as the areas registered them
        (below, and the evaluator's in review.models)."""
        return roles_of(self, user)

    def can_view(self, user) -> bool:
        return bool(self.roles_of(user))

    def can_edit(self, user) -> bool:
        return APPLICANT in self.roles_of(user) and self.has_tag("editable")

    # Staff work on a filed idea by capability (workflow.registry.CAPABILITIES):
    # administrators may do all, a deployment's staff role what it declares.
    def _staff_may(self, user, capability: str) -> bool:
        return self.has_tag("filed") and capable(user, capability)

    def can_screen(self, user) -> bool:
        """Check the idea's eligibility (the screening page)."""
        return self._staff_may(user, "screen")

    def can_assign(self, user) -> bool:
        """Assign evaluators to the idea."""
        return self._staff_may(user, "assign")

    def can_moderate(self, user) -> bool:
        """Moderate its evaluation and messages: remove evaluators, ask the applicant, write notes."""
        return self._staff_may(user, "moderate")

    def can_fund(self, user) -> bool:
        """Decide on its funding (the funding board)."""
        return self._staff_may(user, "fund")

    def can_see_reviews(self, user) -> bool:
        """Read every evaluator's review of it and its score (staff)."""
        return self._staff_may(user, "see_reviews")

    def can_see_documents(self, user) -> bool:
        """Read its decision letters and agreements: whoever sees the idea in a role of their
        own (the applicant, the municipality, administrators); a deployment's staff role only
        with the capability."""
        roles = self.roles_of(user)
        if roles - staff_roles().keys():
            return True
        return bool(roles) and self._staff_may(user, "see_documents")

    @classmethod
    def visible_to(cls, user):
        """The SQL condition selecting the ideas `user` may view: the same answer as
        `can_view`, for a whole list at once (each role's `scope`, beside its check below)."""
        conditions = role_scopes(user)
        if getattr(user, "id", None) is not None and user.roles & staff_roles().keys():
            conditions.append(cls.tagged("filed"))  # staff roles hold on every filed idea (roles_of)
        return or_(*conditions) if conditions else false()

    @classmethod
    def tagged(cls, tag: str):
        """The SQL condition selecting ideas whose state (in their competition's workflow)
        carries `tag`."""
        per_workflow = [
            and_(
                cls.competition_id.in_(select(Competition.id).where(Competition.workflow == workflow.name)),
                cls.state.in_(workflow.states_tagged(tag)),
            )
            for workflow in loaded_workflows()
            if workflow.states_tagged(tag)
        ]
        return or_(*per_workflow) if per_workflow else false()

    def __repr__(self) -> str:
        return f"<Idea {self.id} {self.reference or 'draft'} {self.state}>"


# The ranking's order within a competition (review.ranking.ranked): best score first, the
# unscored last, then the reference, then the id; read in that order, no sort.
RANKING_INDEX = Index("ix_ideas_ranking", Idea.competition_id, Idea.score.desc().nulls_last(), Idea.reference, Idea.id)


@compiles(CreateIndex, "sqlite")
def _create_index_sqlite(create, compiler, **kw):
    """SQLite has no NULLS FIRST/LAST in an index, and needs none: a descending column
    there already puts nulls last, and the planner reads ORDER BY … DESC NULLS LAST along it."""
    return compiler.visit_create_index(create, **kw).replace(" NULLS LAST", "")


@role(ADMINISTRATOR, _l("Administrator"), scope=lambda user: true() if ADMINISTRATOR in user.roles else None)
def _administrator(idea: Idea, user) -> bool:
    return ADMINISTRATOR in user.roles


@role(
    APPLICANT,
    _l("Applicant"),
    scope=lambda user: Idea.organisation_id.in_(user.organisation_ids()) if user.organisation_ids() else None,
)
def _applicant(idea: Idea, user) -> bool:
    """A member of the idea's organisation."""
    return idea.organisation_id in user.organisation_ids()


def _municipality_scope(user):
    if MUNICIPALITY not in user.roles or not user.municipality_ids():
        return None
    return and_(Idea.municipality_id.in_(user.municipality_ids()), Idea.tagged("filed"))


@role(MUNICIPALITY, _l("Municipality representative"), scope=_municipality_scope)
def _municipality(idea: Idea, user) -> bool:
    """A representative of the idea's municipality (one of theirs), once the idea is filed: a draft (and its
    files) is the applicant's own until it is submitted."""
    return (
        MUNICIPALITY in user.roles
        and idea.municipality_id is not None
        and idea.municipality_id in user.municipality_ids()
        and idea.has_tag("filed")
    )


class IdeaRevision(db.Model):
    """One stage's submission as it was submitted: its answers document and the form version
    it was given under, never changed afterwards, so the concept stays readable after the
    proposal is written. A stage returned for changes and submitted again adds another."""

    __tablename__ = "idea_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(40))
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    answers: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    idea: Mapped[Idea] = relationship(back_populates="revisions")
    form_version: Mapped[FormVersion | None] = relationship()


class IdeaActivity(db.Model):
    """A planned activity with its dates."""

    __tablename__ = "idea_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column()
    ends_on: Mapped[date | None] = mapped_column()

    idea: Mapped[Idea] = relationship(back_populates="activities")


class BudgetLine(db.Model):
    """One line of the budget. `own` lines are the applicant's own or in-kind contribution."""

    __tablename__ = "budget_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    item: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("1"))
    unit_cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    own: Mapped[bool] = mapped_column(default=False)

    idea: Mapped[Idea] = relationship(back_populates="budget_lines")

    @property
    def total(self) -> Decimal:
        return line_total(self.quantity, self.unit_cost)


def line_total(quantity, unit_cost) -> Decimal:
    """A budget line's total: quantity × unit cost, to the cent."""
    return (Decimal(quantity) * unit_cost).quantize(Decimal("0.01"))


class Partner(db.Model):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(30), default="organisation")  # organisation|business|municipality
    contribution: Mapped[str] = mapped_column(Text, default="")

    idea: Mapped[Idea] = relationship(back_populates="partners")


class Attachment(db.Model):
    """An uploaded file (a quote, a letter of support, a receipt, a photo)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(30), default="other")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="attachments")
    report: Mapped["Report | None"] = relationship(viewonly=True)  # noqa: F821

    def can_view(self, user) -> bool:
        """Whoever may see the idea may download its files."""
        return self.idea.can_view(user)
