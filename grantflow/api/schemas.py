"""What the API reads and answers, as marshmallow schemas: the OpenAPI document is made from
them, and requests are checked against them (unknown fields refused)."""

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from grantflow.ideas.models import TARGET_GROUPS
from grantflow.workflow.registry import registry

MAX_ID = 2**31 - 1
MAX_PER_PAGE = 100
Id = lambda **kw: fields.Integer(validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731



class DecimalText(fields.Decimal):
    """A decimal number sent as text ("1234.50"), so no cent is lost to a float; documented
    as a string of that pattern."""

    def __init__(self, **kw):
        super().__init__(as_string=True, **kw)


Money = lambda **kw: DecimalText(places=2, **kw)  # noqa: E731
Labels = lambda **kw: fields.Dict(keys=fields.String(), values=fields.String(), **kw)  # noqa: E731 ({lv, en})


class Problem(Schema):
    """An error (RFC 9457 problem details), sent as application/problem+json."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    # Validation errors: where (json, query, headers) -> field -> messages.
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())


# --- query arguments -------------------------------------------------------------------------
class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PER_PAGE))


class CompetitionArgs(PageArgs):
    open = fields.Boolean(metadata={"description": "true: only those open now; false: only those closed"})


class IdeaArgs(PageArgs):
    competition = Id()
    municipality = Id()
    state_tag = fields.String(
        validate=validate.OneOf(sorted(registry.tags)),
        metadata={"description": "ideas whose state carries this tag (see the workflow files)"},
    )


class GrantArgs(PageArgs):
    competition = Id()
    municipality = Id()


class ImpactArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    competition = Id()
    municipality = Id()
    year = fields.Integer(validate=validate.Range(1990, 2200))


class TransitionIn(Schema):
    class Meta:
        unknown = RAISE

    trigger = fields.String(required=True, validate=validate.Length(1, 60))
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class MessageIn(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(["question", "note"]),
                         metadata={"description": "question: to the applicant (they answer it); note: staff only"})
    body = fields.String(required=True, validate=validate.Length(1, 5000))
    to_evaluators = fields.Boolean(load_default=False, metadata={"description": "shared with the idea's evaluators"})
    open_fields = fields.List(fields.String(validate=validate.Length(1, 80)), load_default=list, validate=validate.Length(max=200),
                              metadata={"description": "fields (or budget_line:<id>) the applicant may correct while the question is open"})


class AnswerIn(Schema):
    class Meta:
        unknown = RAISE

    body = fields.String(required=True, validate=validate.Length(1, 5000))
    values = fields.Dict(keys=fields.String(validate=validate.Length(1, 80)), values=fields.String(validate=validate.Length(max=20000)),
                         load_default=dict, metadata={"description": "the corrected values of the fields the question reopened, "
                                                                      "named as the idea's form names them"})


class AmendmentLineIn(Schema):
    class Meta:
        unknown = RAISE

    id = Id(required=True)
    amount = Money(required=True)


class AmendmentDatesIn(Schema):
    class Meta:
        unknown = RAISE

    id = Id(required=True)
    starts_on = fields.Date(allow_none=True, load_default=None)
    ends_on = fields.Date(allow_none=True, load_default=None)


class AmendmentIn(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(1, 5000))
    lines = fields.List(fields.Nested(AmendmentLineIn), load_default=list, validate=validate.Length(max=500),
                        metadata={"description": "funded budget lines' new amounts; a line not named keeps its amount"})
    dates = fields.List(fields.Nested(AmendmentDatesIn), load_default=list, validate=validate.Length(max=500),
                        metadata={"description": "activities' new dates; an activity not named keeps its dates"})


# --- answers --------------------------------------------------------------------------------
class Pagination(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class Criterion(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    name = Labels(required=True)
    guidance = Labels(required=True)
    max_points = fields.Integer(required=True)
    weight = DecimalText(required=True)


class CompetitionDocumentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "rules, template or other"})
    title = Labels(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "where anyone downloads it (the public page's link)"})


class CompetitionOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = Labels(required=True)
    description = Labels(required=True)
    opens_at = fields.AwareDateTime(required=True)
    closes_at = fields.AwareDateTime(required=True)
    open = fields.Boolean(required=True)
    budget = Money(required=True)
    min_grant = Money(required=True)
    max_grant = Money(required=True)
    criteria = fields.List(fields.Nested(Criterion), required=True)
    documents = fields.List(fields.Nested(CompetitionDocumentOut), required=True,
                            metadata={"description": "the rules and templates published with it"})


class CompetitionPage(Pagination):
    items = fields.List(fields.Nested(CompetitionOut), required=True)


class Named(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class State(Schema):
    name = fields.String(required=True)
    label = Labels(required=True)
    tags = fields.List(fields.String(), required=True)


class IdeaSummary(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(allow_none=True, required=True)
    title = fields.String(required=True)
    competition_id = fields.Integer(required=True)
    organisation = fields.Nested(Named, required=True)
    municipality = fields.Nested(Named, allow_none=True, required=True)
    state = fields.Nested(State, required=True)
    version = fields.Integer(required=True, metadata={"description": "the ETag; send it as If-Match to change the idea"})
    requested_amount = Money(required=True)
    submitted_at = fields.AwareDateTime(allow_none=True, required=True)
    updated_at = fields.AwareDateTime(required=True)


class IdeaPage(Pagination):
    items = fields.List(fields.Nested(IdeaSummary), required=True)


class Activity(Schema):
    description = fields.String(required=True)
    starts_on = fields.Date(allow_none=True, required=True)
    ends_on = fields.Date(allow_none=True, required=True)


class BudgetLine(Schema):
    item = fields.String(required=True)
    quantity = DecimalText(required=True)
    unit_cost = Money(required=True)
    total = Money(required=True)
    own = fields.Boolean(required=True)


class Partner(Schema):
    name = fields.String(required=True)
    kind = fields.String(required=True)
    contribution = fields.String(required=True)


class AttachmentOut(Schema):
    id = fields.Integer(required=True)
    purpose = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class IdeaOut(IdeaSummary):
    """The idea with its answers, as its page shows them to whoever may see it."""

    summary = fields.String(required=True)
    community_need = fields.String(required=True)
    goals = fields.String(required=True)
    target_groups = fields.List(fields.String(validate=validate.OneOf(TARGET_GROUPS)), required=True)
    less_active_reach = fields.String(required=True)
    expected_participants = fields.Integer(allow_none=True, required=True)
    coop_premises = fields.String(required=True)
    coop_inventory = fields.String(required=True)
    coop_upkeep = fields.String(required=True)
    sustainability = fields.String(required=True)
    contact_name = fields.String(required=True)
    contact_email = fields.String(required=True)
    contact_phone = fields.String(required=True)
    parish = fields.Nested(Named, allow_none=True, required=True)
    place = fields.String(required=True)
    own_contribution = Money(required=True)
    activities = fields.List(fields.Nested(Activity), required=True)
    budget_lines = fields.List(fields.Nested(BudgetLine), required=True)
    partners = fields.List(fields.Nested(Partner), required=True)
    attachments = fields.List(fields.Nested(AttachmentOut), required=True)
    created_at = fields.AwareDateTime(required=True)


class HistoryOut(Schema):
    kind = fields.String(required=True)
    label = fields.String(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    actor = fields.String(allow_none=True, required=True, metadata={"description": "null where the viewer may not know who"})
    actor_role = fields.String(allow_none=True, required=True)
    comment = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class TransitionOut(Schema):
    trigger = fields.String(required=True)
    label = Labels(required=True)
    to_state = fields.String(required=True)
    comment = fields.String(required=True, validate=validate.OneOf(["none", "optional", "required"]))


class ScoreOut(Schema):
    criterion_id = fields.Integer(required=True)
    points = DecimalText(required=True)
    comment = fields.String(required=True)


class ReviewOut(Schema):
    id = fields.Integer(required=True)
    idea_id = fields.Integer(required=True)
    own = fields.Boolean(required=True)
    status = fields.String(required=True)
    recommendation = fields.String(required=True)
    comment = fields.String(required=True)
    total = DecimalText(allow_none=True, required=True)
    submitted_at = fields.AwareDateTime(allow_none=True, required=True)
    scores = fields.List(fields.Nested(ScoreOut), required=True)


class ReviewPage(Pagination):
    items = fields.List(fields.Nested(ReviewOut), required=True)


class DocumentOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    version = fields.Integer(required=True)
    number = fields.String(required=True)
    language = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    issued_at = fields.AwareDateTime(required=True)
    download = fields.String(required=True)


class ReportActivityOut(Schema):
    held_on = fields.Date(allow_none=True, required=True)
    description = fields.String(required=True)
    participants = fields.Integer(required=True)


class ReachOut(Schema):
    target_group = fields.String(required=True)
    people = fields.Integer(required=True)


class SpendingOut(Schema):
    item = fields.String(required=True)
    planned = Money(required=True)
    actual = Money(required=True)


class ReportOut(Schema):
    id = fields.Integer(required=True)
    idea_id = fields.Integer(required=True)
    status = fields.String(required=True)
    participants = fields.Integer(required=True)
    organisations_count = fields.Integer(required=True)
    organisations_names = fields.String(required=True)
    volunteers = fields.Integer(required=True)
    changed = fields.String(required=True)
    continues = fields.String(required=True)
    submitted_at = fields.AwareDateTime(allow_none=True, required=True)
    accepted_at = fields.AwareDateTime(allow_none=True, required=True)
    activities = fields.List(fields.Nested(ReportActivityOut), required=True)
    reach = fields.List(fields.Nested(ReachOut), required=True)
    spending = fields.List(fields.Nested(SpendingOut), required=True)


class ImpactOut(Schema):
    funded = fields.Integer(required=True)
    granted = Money(required=True)
    reports = fields.Integer(required=True)
    spent = Money(required=True)
    people = fields.Integer(required=True)
    less_active = fields.Integer(required=True)
    organisations = fields.Integer(required=True)
    volunteers = fields.Integer(required=True)
    activities = fields.Integer(required=True)
    resource_centres = fields.Integer(required=True)
    reach = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    demo = fields.Boolean(required=True, metadata={"description": "true when the figures include demo data"})


class GrantOut(Schema):
    """A funded idea as the open data publishes it: nothing personal."""

    idea_id = fields.Integer(required=True)
    reference = fields.String(allow_none=True, required=True)
    title = fields.String(required=True)
    organisation = fields.String(required=True)
    municipality = fields.String(allow_none=True, required=True)
    parish = fields.String(allow_none=True, required=True)
    competition = fields.Nested(Named, required=True)
    amount_requested = Money(required=True)
    amount_awarded = Money(required=True)
    awarded_at = fields.AwareDateTime(required=True)


class GrantPage(Pagination):
    items = fields.List(fields.Nested(GrantOut), required=True)


class MeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    token = fields.Nested(Schema.from_dict({"name": fields.String(required=True), "can_write": fields.Boolean(required=True)}, name="TokenOut"), required=True)


class MessageFileOut(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class MessageOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "question, note or answer"})
    body = fields.String(required=True)
    author = fields.String(allow_none=True, metadata={"description": "the author's name, where the idea's page shows it"})
    to_applicant = fields.Boolean(required=True)
    to_evaluators = fields.Boolean(required=True)
    open = fields.Boolean(required=True, metadata={"description": "a question still waiting for its answer"})
    open_fields = fields.List(fields.String(), required=True)
    changes = fields.List(fields.Dict(), required=True)
    files = fields.List(fields.Nested(MessageFileOut), required=True)
    created_at = fields.DateTime(required=True)
    closed_at = fields.DateTime(allow_none=True)
    answers = fields.List(fields.Nested(lambda: MessageOut(exclude=("answers",))))


class AmendmentLineOut(Schema):
    id = fields.Integer(required=True)
    item = fields.String(required=True)
    amount = Money(required=True)


class AmendmentDatesOut(Schema):
    id = fields.Integer(required=True)
    description = fields.String(required=True)
    starts_on = fields.String(allow_none=True)
    ends_on = fields.String(allow_none=True)


class AmendmentValues(Schema):
    amount = Money(required=True)
    lines = fields.List(fields.Nested(AmendmentLineOut), required=True)
    dates = fields.List(fields.Nested(AmendmentDatesOut), required=True)


class AmendmentOut(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(allow_none=True, metadata={"description": "given on approval: 1, 2, ... per idea"})
    status = fields.String(required=True, metadata={"description": "requested, approved or refused"})
    status_label = Labels(required=True)
    reason = fields.String(required=True)
    amount = Money(required=True)
    lines = fields.List(fields.Nested(AmendmentLineOut), required=True)
    dates = fields.List(fields.Nested(AmendmentDatesOut), required=True)
    before = fields.Nested(AmendmentValues, allow_none=True)
    answer = fields.String(required=True)
    requested_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True)
    document_id = fields.Integer(allow_none=True)
