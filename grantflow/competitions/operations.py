"""Setting up competitions and their criteria (fixed once scoring has started)."""

import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grantflow.adminlog.operations import log_kind, object_kind, snapshot
from grantflow.adminlog.operations import record as log
from grantflow.competitions.models import Competition, CompetitionDocument, CompetitionStage, Criterion, ReviewRound
from grantflow.core.errors import Refused
from grantflow.core.extensions import db
from grantflow.core.i18n import format_money
from grantflow.core.types import utcnow
from grantflow.core.uploads import check_file
from grantflow.workflow.registry import WorkflowUnavailable, workflow_for

# A sensible default set for community ideas, for a round whose workflow file gives no `criteria`:
# (lv, en, guidance lv, guidance en, max points, weight)
DEFAULT_CRITERIA = (
    ("Vajadzība ir reāla un vietēja", "The need is real and local",
     "Vai ideja atbild uz konkrētas kopienas skaidri aprakstītu vajadzību?",
     "Does the idea answer a clearly described need of a particular community?", 10, Decimal("1.5")),
    ("Iesaistītas mazāk aktīvās grupas", "Less active groups are involved",
     "Vai ideja sasniedz mazāk aktīvos: jauniešus, vīriešus 35+, mazākumtautības, seniorus?",
     "Does the idea reach the less active: youth, men over 35, minorities, seniors?", 10, Decimal("1.5")),
    ("Sadarbība ar pašvaldību", "Cooperation with the municipality",
     "Vai pašvaldība piedalās (telpas, inventārs, uzturēšana pēc projekta)?",
     "Does the municipality take part (premises, inventory, upkeep after the project)?", 10, Decimal("1")),
    ("Ilgtspēja", "Sustainability",
     "Kas paliks kopienai pēc tam, kad nauda iztērēta?",
     "What stays with the community once the money is spent?", 10, Decimal("1")),
    ("Budžets ir pamatots un reāls", "The budget is justified and realistic",
     "Vai izmaksas ir vajadzīgas, samērīgas un pamatotas?",
     "Are the costs necessary, proportionate and justified?", 10, Decimal("1")),
)  # fmt: skip


def add_rounds(competition: Competition) -> list[ReviewRound]:
    """Give the competition every review round its workflow declares that it lacks (in the
    workflow's order, after those it has); returns the rounds added. A workflow that did not
    load adds none."""
    try:
        declared = workflow_for(competition.workflow).rounds
    except WorkflowUnavailable:
        return []
    added = []
    have = {r.key for r in competition.rounds}
    position = max((r.position for r in competition.rounds), default=0)
    for spec in declared.values():
        if spec.key in have:
            continue
        position += 1
        added.append(ReviewRound(key=spec.key, label_lv=spec.label["lv"], label_en=spec.label["en"], position=position))
        competition.rounds.append(added[-1])
    return added


# A later stage's window until an administrator sets it: from the competition's deadline, this long.
LATER_STAGE_WINDOW = timedelta(days=60)


def add_stages(competition: Competition) -> list[CompetitionStage]:
    """Give the competition a submission window for every application stage its workflow
    declares that it lacks: the first stage's is the competition's own window, a later one's
    opens at the competition's deadline. Returns the stages added; a workflow without stages
    (or one that did not load) adds none."""
    try:
        declared = workflow_for(competition.workflow).stages
    except WorkflowUnavailable:
        return []
    added = []
    have = {s.key for s in competition.stages}
    for spec in declared.values():
        if spec.key in have:
            continue
        first = spec.position == 1
        stage = CompetitionStage(
            key=spec.key, label_lv=spec.label["lv"], label_en=spec.label["en"], position=spec.position,
            opens_at=competition.opens_at if first else competition.closes_at,
            closes_at=competition.closes_at if first else competition.closes_at + LATER_STAGE_WINDOW,
        )  # fmt: skip
        competition.stages.append(stage)
        added.append(stage)
    return added


def add_default_criteria(competition: Competition) -> None:
    """The workflow's review rounds, each with the default criteria, and its stages' windows."""
    add_stages(competition)
    for review_round in add_rounds(competition):
        _default_criteria(competition, review_round)


def _default_criteria(competition: Competition, review_round: ReviewRound) -> None:
    """The criteria the workflow file gives the round, or else DEFAULT_CRITERIA."""
    try:
        spec = workflow_for(competition.workflow).rounds.get(review_round.key)
    except WorkflowUnavailable:
        spec = None
    if spec is not None and spec.criteria:
        criteria = [(c.name["lv"], c.name["en"], c.guidance["lv"], c.guidance["en"], c.max_points, c.weight)
                    for c in spec.criteria]  # fmt: skip
    else:
        criteria = DEFAULT_CRITERIA
    for position, (name_lv, name_en, guide_lv, guide_en, points, weight) in enumerate(criteria, 1):
        review_round.criteria.append(
            Criterion(
                competition=competition,
                position=position,
                name_lv=name_lv,
                name_en=name_en,
                guidance_lv=guide_lv,
                guidance_en=guide_en,
                max_points=points,
                weight=weight,
            )
        )




# What fixes a competition's set-up is known to the areas above this one: the ideas area
# whether it has ideas (then its workflow stays), the review area whether scoring has started
# (then its criteria stay), the funding area how much its decisions committed (the budget
# cannot go below it). They register their answer here, so this area imports none of them.
_USAGE: dict[str, Callable[[Competition], Any]] = {}


def usage(name: str):
    """Register `func(competition)` answering the usage question `name` (a bool; for
    "committed", an amount)."""

    def decorate(func):
        _USAGE[name] = func
        return func

    return decorate


def open_competitions(now) -> list[Competition]:
    """Competitions taking submissions at `now`, the soonest closing first."""
    return db.session.scalars(
        select(Competition).where(Competition.opens_at <= now, Competition.closes_at > now).order_by(Competition.closes_at)
    ).all()


def has_ideas(competition: Competition) -> bool:
    return _USAGE["ideas"](competition)


def scoring_started(review_round: ReviewRound) -> bool:
    """Once any review (even a draft) exists in the round, its criteria are fixed."""
    return _USAGE["scoring"](review_round)


def committed(competition: Competition) -> Decimal:
    """Money already committed by funding decisions in the competition (the funding area's
    answer)."""
    return _USAGE["committed"](competition)


object_kind("competition", _l("Competition"))
object_kind("criterion", _l("Criterion"))
log_kind("competition_created", _l("Competition created"))
log_kind("competition_changed", _l("Competition changed"))
log_kind("criterion_added", _l("Criterion added"))
log_kind("criterion_changed", _l("Criterion changed"))
log_kind("criterion_removed", _l("Criterion removed"))
log_kind("criteria_reordered", _l("Criteria reordered"))
log_kind("round_added", _l("Review round added"))
log_kind("round_changed", _l("Review round changed"))
object_kind("review_round", _l("Review round"))
log_kind("stage_window_changed", _l("Submission window of a stage changed"))
object_kind("competition_stage", _l("Application stage"))
STAGE_FIELDS = ("opens_at", "closes_at")


def update_stages(competition: Competition, windows: dict) -> None:
    """New submission windows {stage id: (opens, closes)}, each change logged. The first
    stage's window is the competition's own, so it moves the competition's with it."""
    for stage in competition.stages:
        if stage.id not in windows:
            continue
        before = snapshot(stage, STAGE_FIELDS)
        stage.opens_at, stage.closes_at = windows[stage.id]
        if stage.position == competition.stages[0].position:
            competition.opens_at, competition.closes_at = stage.opens_at, stage.closes_at
        after = snapshot(stage, STAGE_FIELDS)
        if after != before:
            log("stage_window_changed", "competition_stage", stage.id, f"{competition.code}: {stage.label_lv}",
                before=before, after=after)  # fmt: skip
    db.session.commit()


ROUND_FIELDS = ("label_lv", "label_en", "evaluation_closes_at")
CRITERION_FIELDS = ("name_lv", "name_en", "guidance_lv", "guidance_en", "max_points", "weight")


def _criterion_label(criterion: Criterion) -> str:
    """The log's name for a criterion: its competition, its round's name where there are
    several (never the round's key, a code word), and its name."""
    competition = criterion.competition
    if len(competition.rounds) > 1:
        return f"{competition.code} · {criterion.round.label_lv}: {criterion.name_lv}"
    return f"{competition.code}: {criterion.name_lv}"


def _round_label(review_round: ReviewRound) -> str:
    return f"{review_round.competition.code}: {review_round.label_lv}"


def _order(review_round: ReviewRound) -> list[str]:
    return [c.name_lv for c in review_round.criteria]


def _criteria_open(review_round: ReviewRound) -> None:
    if scoring_started(review_round):
        raise Refused(_("Scoring has started in this round, so its criteria can no longer change."))


def sync_rounds(competition: Competition) -> list[ReviewRound]:
    """Add the rounds the competition's workflow declares and it lacks, each with the default
    criteria (logged)."""
    add_stages(competition)
    added = add_rounds(competition)
    for review_round in added:
        _default_criteria(competition, review_round)
    db.session.flush()
    for review_round in added:
        log("round_added", "review_round", review_round.id, _round_label(review_round),
            after=snapshot(review_round, ROUND_FIELDS))  # fmt: skip
    db.session.commit()
    return added


def update_round(review_round: ReviewRound, data: dict) -> None:
    """Change a round's labels and evaluation deadline (logged)."""
    before = snapshot(review_round, ROUND_FIELDS)
    for name, value in data.items():
        setattr(review_round, name, value)
    log("round_changed", "review_round", review_round.id, _round_label(review_round), before=before,
        after=snapshot(review_round, ROUND_FIELDS))  # fmt: skip
    db.session.commit()


def save_competition(competition: Competition | None, data: dict) -> Competition:
    """Create a competition (with the default criteria) or change one; its workflow can
    change only while it has no ideas."""
    if competition is None:
        data = dict(data)
        closes = data.pop("evaluation_closes_at", None)
        competition = Competition(**data)
        add_default_criteria(competition)
        if competition.rounds:
            competition.evaluation_closes_at = closes
        data["evaluation_closes_at"] = closes
        db.session.add(competition)
        db.session.flush()
        log("competition_created", "competition", competition.id, competition.code, after=snapshot(competition, data))
    else:
        before = snapshot(competition, data)
        if data["workflow"] != competition.workflow and has_ideas(competition):
            raise Refused(_("The workflow cannot change once the competition has ideas."))
        if data.get("budget") is not None:
            # Locked, as funding locks it (funding.operations.budget_covers): no decision
            # slips in between the check and the new budget.
            db.session.refresh(competition, with_for_update=True)
            spent = committed(competition)
            if data["budget"] < spent:
                message = _("The budget cannot be less than is already committed to funded ideas: %(committed)s.",
                            committed=format_money(spent))  # fmt: skip
                raise Refused(fields={"budget": message})
        has_rounds = bool(competition.rounds)  # loaded before anything changes: a taken code
        with db.session.no_autoflush:  # fails at the commit below (a clear message), not in a lazy load
            for name, value in data.items():
                if name != "evaluation_closes_at" or has_rounds:
                    setattr(competition, name, value)
            # The competition's window is its first stage's.
            add_stages(competition)
            for stage in competition.stages[:1]:
                stage.opens_at, stage.closes_at = competition.opens_at, competition.closes_at
            log("competition_changed", "competition", competition.id, competition.code, before=before,
                after=snapshot(competition, data))  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused(_("Another competition already uses the code %(code)s.", code=data["code"])) from None
    return competition


def _renumber(ordered: list[Criterion]) -> None:
    """Positions are unique per round: park them out of the way, then number 1..n."""
    for index, criterion in enumerate(ordered, 1):
        criterion.position = -index
    db.session.flush()
    for index, criterion in enumerate(ordered, 1):
        criterion.position = index
    db.session.flush()


def add_criterion(review_round: ReviewRound, data: dict) -> Criterion:
    _criteria_open(review_round)
    position = max((c.position for c in review_round.criteria), default=0) + 1
    criterion = Criterion(position=position, competition=review_round.competition, **data)
    review_round.criteria.append(criterion)
    db.session.flush()
    log("criterion_added", "criterion", criterion.id, _criterion_label(criterion), after=snapshot(criterion, CRITERION_FIELDS))
    db.session.commit()
    return criterion


def update_criterion(criterion: Criterion, data: dict) -> None:
    _criteria_open(criterion.round)
    before = snapshot(criterion, CRITERION_FIELDS)
    for name, value in data.items():
        setattr(criterion, name, value)
    log("criterion_changed", "criterion", criterion.id, _criterion_label(criterion), before=before,
        after=snapshot(criterion, CRITERION_FIELDS))  # fmt: skip
    db.session.commit()


def remove_criterion(criterion: Criterion) -> None:
    review_round = criterion.round
    _criteria_open(review_round)
    if len(review_round.criteria) <= 1:
        raise Refused(_("A competition needs at least one criterion."))
    rest = [c for c in review_round.criteria if c.id != criterion.id]
    log("criterion_removed", "criterion", criterion.id, _criterion_label(criterion), before=snapshot(criterion, CRITERION_FIELDS))
    review_round.criteria.remove(criterion)
    db.session.flush()
    _renumber(rest)
    db.session.commit()


def move_criterion(criterion: Criterion, step: int) -> None:
    """Move one place up (-1) or down (+1)."""
    review_round, competition = criterion.round, criterion.competition
    _criteria_open(review_round)
    ordered = list(review_round.criteria)
    index = ordered.index(criterion)
    target = index + step
    if 0 <= target < len(ordered):
        before = _order(review_round)
        ordered[index], ordered[target] = ordered[target], ordered[index]
        _renumber(ordered)
        log("criteria_reordered", "competition", competition.id, competition.code, before={"criteria": before},
            after={"criteria": [c.name_lv for c in ordered]})  # fmt: skip
    db.session.commit()


# --- documents: rules and templates visitors download -------------------------------------
object_kind("competition_document", _l("Competition document"))
log_kind("competition_document_added", _l("Competition document added"))
log_kind("competition_document_replaced", _l("Competition document replaced"))
log_kind("competition_document_removed", _l("Competition document removed"))
DOCUMENT_TYPES = ("pdf", "docx", "odt", "xlsx", "ods")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 20
DOCUMENT_FIELDS = ("kind", "title_lv", "title_en", "filename", "size", "sha256")


def _checked(upload_name: str, data: bytes) -> tuple[str, str]:
    """The file's safe name and content type, or Refused with the message for the file field."""
    try:
        return check_file(upload_name, data, DOCUMENT_TYPES, MAX_DOCUMENT_BYTES,
                          _l("This kind of file is not accepted. Upload a PDF, DOCX, ODT, XLSX or ODS file."))  # fmt: skip
    except Refused as refused:
        raise Refused(fields={"file": refused.messages[0]}) from None


def _document_label(document: CompetitionDocument) -> str:
    return f"{document.competition.code}: {document.title_lv}"


def add_document(competition: Competition, data: dict, upload_name: str, content: bytes, actor) -> CompetitionDocument:
    """Keep a new document of the competition (its type judged by content), logged. Commits."""
    filename, content_type = _checked(upload_name, content)
    if len(competition.documents) >= MAX_DOCUMENTS:
        raise Refused(fields={"file": _("At most %(count)d documents per competition.", count=MAX_DOCUMENTS)})
    document = CompetitionDocument(
        kind=data["kind"], title_lv=data["title_lv"], title_en=data["title_en"], filename=filename,
        content_type=content_type, size=len(content), sha256=hashlib.sha256(content).hexdigest(), data=content,
        uploaded_by_id=actor.id,
    )  # fmt: skip
    competition.documents.append(document)
    db.session.flush()
    log("competition_document_added", "competition_document", document.id, _document_label(document),
        after=snapshot(document, DOCUMENT_FIELDS), actor=actor)  # fmt: skip
    db.session.commit()
    return document


def replace_document(document: CompetitionDocument, data: dict, upload_name: str, content: bytes, actor) -> None:
    """A new version of the document (and its titles) at the same address, logged. Commits.
    Without a file only the titles and kind change."""
    before = snapshot(document, DOCUMENT_FIELDS)
    if content or upload_name:
        filename, content_type = _checked(upload_name, content)
        document.filename, document.content_type, document.size = filename, content_type, len(content)
        document.sha256, document.data = hashlib.sha256(content).hexdigest(), content
        document.uploaded_by_id, document.uploaded_at = actor.id, utcnow()
    document.kind, document.title_lv, document.title_en = data["kind"], data["title_lv"], data["title_en"]
    log("competition_document_replaced", "competition_document", document.id, _document_label(document),
        before=before, after=snapshot(document, DOCUMENT_FIELDS), actor=actor)  # fmt: skip
    db.session.commit()


def remove_document(document: CompetitionDocument, actor) -> None:
    log("competition_document_removed", "competition_document", document.id, _document_label(document),
        before=snapshot(document, DOCUMENT_FIELDS), actor=actor)  # fmt: skip
    db.session.delete(document)
    db.session.commit()
