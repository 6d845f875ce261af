"""Competitions: the call for ideas, its budget, limits, criteria and workflow."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grantflow.core.extensions import db
from grantflow.core.types import Money, UTCDateTime, utcnow
from grantflow.workflow.registry import capable


class Competition(db.Model):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Prefix of the ideas' reference numbers, e.g. DK-2025 gives DK-2025-0042.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title_lv: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description_lv: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    report_due: Mapped[date | None] = mapped_column()
    budget: Mapped[Decimal] = mapped_column(Money())
    min_grant: Mapped[Decimal] = mapped_column(Money())
    max_grant: Mapped[Decimal] = mapped_column(Money())
    workflow: Mapped[str] = mapped_column(String(80), default="community_ideas")
    evaluators_per_idea: Mapped[int] = mapped_column(default=2)
    # Reviews of one idea whose weighted totals differ by more than this are flagged.
    disagreement_threshold: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("15"))
    min_score: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How many reference numbers its ideas have been given; the next is one more.
    references_given: Mapped[int] = mapped_column(default=0, server_default="0")
    # Moved on whenever a score in the competition may have changed (a review submitted, an
    # evaluator removed or assigned, a conflict declared: review.operations.refresh_score),
    # so what depends on all of its reviews (the ranking's evaluator scaling) can be kept
    # until it moves.
    scores_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The versions of the application and final-report forms it asks (questionnaires area);
    # none: the current version of the default form files.
    application_form_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))
    report_form_id: Mapped[int | None] = mapped_column(ForeignKey("form_versions.id"))

    # Every round's criteria (ReviewRound.criteria are one round's), by round and position.
    criteria: Mapped[list["Criterion"]] = relationship(
        order_by="[Criterion.round_id, Criterion.position]", viewonly=True
    )
    documents: Mapped[list["CompetitionDocument"]] = relationship(
        back_populates="competition", order_by="CompetitionDocument.id", cascade="all, delete-orphan"
    )

    rounds: Mapped[list["ReviewRound"]] = relationship(
        back_populates="competition", order_by="ReviewRound.position", cascade="all, delete-orphan"
    )
    # The submission windows of the application stages its workflow declares (`stages:`).
    stages: Mapped[list["CompetitionStage"]] = relationship(
        back_populates="competition", order_by="CompetitionStage.position", cascade="all, delete-orphan"
    )

    @property
    def evaluation_closes_at(self) -> datetime | None:
        """The first review round's evaluation deadline (the competition form edits it; the
        rounds page edits every round's)."""
        return self.rounds[0].evaluation_closes_at if self.rounds else None

    @evaluation_closes_at.setter
    def evaluation_closes_at(self, value: datetime | None) -> None:
        if not self.rounds:
            raise ValueError("the competition has no review round yet")
        self.rounds[0].evaluation_closes_at = value

    # Staff pages of the competition by capability (workflow.registry.CAPABILITIES), the same
    # answer as the ideas' permission methods.
    def can_assign(self, user) -> bool:
        """The assignment and evaluation progress pages."""
        return capable(user, "assign")

    def can_fund(self, user) -> bool:
        """The funding board."""
        return capable(user, "fund")

    def can_see_reviews(self, user) -> bool:
        """The ranking and its exports."""
        return capable(user, "see_reviews")

    def stage(self, key: str) -> "CompetitionStage | None":
        return next((s for s in self.stages if s.key == key), None)

    def window(self, stage_key: str | None) -> tuple[datetime, datetime]:
        """(opens, closes) of the submission window of the stage `stage_key`: the stage's own,
        or the competition's where there is no stage or it has no window of its own."""
        stage = self.stage(stage_key) if stage_key else None
        if stage is None:
            return self.opens_at, self.closes_at
        return stage.opens_at, stage.closes_at

    def round(self, key: str) -> "ReviewRound | None":
        return next((r for r in self.rounds if r.key == key), None)

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_lv

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def __str__(self) -> str:
        return self.title_lv


class ReviewRound(db.Model):
    """One round of evaluation in a competition: its criteria, assignments, reviews and
    evaluation deadline. The competition's workflow declares its rounds (`rounds:`, by key)
    and which state opens which; a two-stage competition reviews the concept in one round
    and the full proposal in the next."""

    __tablename__ = "review_rounds"
    __table_args__ = (
        UniqueConstraint("competition_id", "key", name="uq_review_rounds_key"),
        UniqueConstraint("competition_id", "position", name="uq_review_rounds_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label_lv: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column()
    evaluation_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    competition: Mapped[Competition] = relationship(back_populates="rounds")
    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" and self.label_en else self.label_lv

    def __str__(self) -> str:
        return self.label_lv


class CompetitionStage(db.Model):
    """The submission window, in the competition, of one application stage its workflow
    declares (a concept, then an invited full proposal): set per competition like its deadline,
    stored UTC, shown and edited in Riga time."""

    __tablename__ = "competition_stages"
    __table_args__ = (
        UniqueConstraint("competition_id", "key", name="uq_competition_stages_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label_lv: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column()
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())

    competition: Mapped[Competition] = relationship(back_populates="stages")

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" and self.label_en else self.label_lv

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def __str__(self) -> str:
        return self.label_lv


class Criterion(db.Model):
    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("round_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(
        ForeignKey("competitions.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("review_rounds.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    name_lv: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    guidance_lv: Mapped[str] = mapped_column(Text, default="")
    guidance_en: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[int] = mapped_column()
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("1"))

    competition: Mapped[Competition] = relationship()
    round: Mapped[ReviewRound] = relationship(back_populates="criteria")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_lv


class CompetitionDocument(db.Model):
    """A document of a competition that visitors download from its public page: the rules,
    an application template. The file is kept in the database (a backup holds it), checked
    by its content when uploaded; replacing it keeps the row (and its public address)."""

    __tablename__ = "competition_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="rules")  # a key of DOCUMENT_KINDS (forms)
    title_lv: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    competition: Mapped[Competition] = relationship(back_populates="documents")

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" and self.title_en else self.title_lv

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].upper()
