"""What the testing API reads and writes (API.md: ``POST /api/v1/collections`` and
``POST /api/v1/specimens/{specimen_id}/custody``, plus the documented reads).

Times are ISO 8601 **with an offset**: a time without one is refused (``422`` naming the
field), never guessed. ``person`` is the employment id, as in ``/api/v1/people``.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from probity.testing import policies, rules, selectors
from probity.testing.models import Collection, Reason

ReasonCode = Literal[tuple(Reason.values)]  # type: ignore[valid-type]
EventCode = Literal[rules.CUSTODY_EVENTS]  # type: ignore[valid-type]
ScreenCode = Literal[tuple(Collection.Screen.values) + ("",)]  # type: ignore[valid-type]
IdentityMethodCode = Literal[tuple(Collection.IdentityMethod.values) + ("",)]  # type: ignore[valid-type]
BottleLabel = Literal["A", "B"]

_MAX_ID = 2**63 - 1
_ATTESTED = (
    "Defaults to true: by sending the collection the caller attests it. Send false only to "
    "have the collection refused (a collection needs it)."
)


def _no_control_characters(value):
    """A NUL or another control character (other than tab and newlines) is never text."""
    if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise PydanticCustomError("control_characters", "Control characters are not allowed.")
    return value


def _with_offset(value: datetime | None) -> datetime | None:
    if value is None:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "offset_required",
            "Give the time with its UTC offset, e.g. 2024-01-22T08:30:00+07:00: a time "
            "without one is ambiguous.",
        )
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or in_utc.year < 1900:
        raise PydanticCustomError("time_range", "The time is out of range.")
    return value


def _an_id(value):
    """An id as an integer or a string of digits; never a boolean."""
    if isinstance(value, bool):
        raise PydanticCustomError("id", "Give the id as a number, e.g. 123.")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or not text.isascii():
            raise PydanticCustomError("id", "Give the id as a number, e.g. 123.")
        return int(text)
    return value


# --- input ----------------------------------------------------------------------------------


class CollectionIn(Schema):
    """``POST /collections``: a specimen collected from a person. Required: ``person``,
    ``reason``, ``collected_at``, ``specimen_type``, ``split``."""

    person: int = Field(
        ...,
        ge=1,
        le=_MAX_ID,
        description="The person's id as in /api/v1/people (the employment id); a number or "
        "a string of digits",
        examples=[123],
    )
    reason: ReasonCode = Field(..., description="Why the person is tested")
    collected_at: datetime = Field(
        ..., description="ISO 8601 with offset", examples=["2026-01-22T08:30:00+07:00"]
    )
    specimen_type: str = Field(..., min_length=1, max_length=20, examples=["urine"])
    split: bool = Field(..., description="Split into bottles A and B")
    campaign: str | None = Field(None, max_length=40, description="Campaign code")
    panel: str | None = Field(
        None,
        max_length=40,
        description="Panel code. Default: the campaign's panel, else the agency's current one",
    )
    observed: bool = Field(False, description="Directly observed collection")
    temperature_in_range: bool | None = Field(
        None, description="Urine temperature 32-38 °C within 4 minutes of voiding"
    )
    site: str = Field("", max_length=300, description="Where the specimen was collected")
    collectors: list[str] = Field(
        [],
        max_length=20,
        description="Usernames of the collectors present; the first is the collector of "
        "record. Empty: the caller.",
    )
    # Additive (documented in the OpenAPI schema).
    temperature_c: Decimal | None = Field(
        None, ge=0, le=99, max_digits=4, decimal_places=1, description="Measured, in °C"
    )
    seal_a: str = Field("", max_length=40, description="Seal number of bottle A")
    seal_b: str = Field("", max_length=40, description="Seal number of bottle B")
    volume_a_ml: int | None = Field(None, ge=0, le=10_000, description="Volume in bottle A")
    volume_b_ml: int | None = Field(None, ge=0, le=10_000, description="Volume in bottle B")
    identity_checked: bool = Field(
        True, description="The donor's identity was checked. " + _ATTESTED
    )
    identity_method: IdentityMethodCode = Field("", description="How the identity was checked")
    donor_confirmed: bool = Field(
        True, description="The donor confirmed the collection (signed). " + _ATTESTED
    )
    collector_confirmed: bool = Field(
        True, description="The collector confirmed the collection. " + _ATTESTED
    )
    screen_result: ScreenCode = Field("", description="On-site screen, when one was done")
    remarks: str = Field("", max_length=5000)
    session: int | None = Field(
        None, ge=1, le=_MAX_ID, description="Collection session id (you must be on its team)"
    )
    selection: int | None = Field(
        None, ge=1, le=_MAX_ID, description="The draw selection of this person, if drawn"
    )

    _ids = field_validator("person", "session", "selection", mode="before")(_an_id)
    _times = field_validator("collected_at")(_with_offset)
    _text = field_validator(
        "specimen_type",
        "campaign",
        "panel",
        "site",
        "seal_a",
        "seal_b",
        "remarks",
    )(_no_control_characters)

    @field_validator("collectors")
    @classmethod
    def _usernames(cls, value: list[str]) -> list[str]:
        for name in value:
            _no_control_characters(name)
            if not name.strip() or len(name) > 150:
                raise PydanticCustomError(
                    "username", "Each collector is a username of 1 to 150 characters."
                )
        return value


class CustodyIn(Schema):
    """``POST /specimens/{specimen_id}/custody``: one link of a bottle's chain of custody."""

    event: EventCode
    laboratory: str | None = Field(
        None,
        max_length=20,
        description="Laboratory code: required on receipt and for every event at the "
        "laboratory; on a hand-over, the laboratory the bottle is sent to",
    )
    bottle: BottleLabel = Field(..., description="A, or B for a split specimen")
    seal_intact: bool | None = Field(
        None, description="Required on receipt: a broken seal rejects the specimen"
    )
    at: datetime = Field(
        ..., description="ISO 8601 with offset", examples=["2026-01-22T15:00:00+07:00"]
    )
    counter_signer: str | None = Field(
        None, max_length=150, description="Username of the counter-signer (another person)"
    )
    counter_signer_name: str = Field(
        "", max_length=200, description="Counter-signer without an account (e.g. the courier)"
    )
    location: str = Field("", max_length=300)
    specimen_id_on_bottle: str = Field(
        "",
        max_length=40,
        description="The specimen ID as read on the bottle: on receipt, a mismatch with the "
        "form rejects the specimen",
    )
    volume_ml: int | None = Field(
        None, ge=0, le=10_000, description="Volume found: on receipt, too little rejects"
    )
    remarks: str = Field("", max_length=5000)

    _times = field_validator("at")(_with_offset)
    _text = field_validator(
        "laboratory",
        "counter_signer",
        "counter_signer_name",
        "location",
        "specimen_id_on_bottle",
        "remarks",
    )(_no_control_characters)


# --- output ---------------------------------------------------------------------------------


def _request_user(context):
    request = (context or {}).get("request")
    return getattr(request, "user", None)


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


class PanelRefOut(Schema):
    code: str = Field(..., alias="panel.code")
    version: int
    effective_from: date


class BottleOut(Schema):
    label: str
    seal_number: str
    volume_ml: int | None


class CustodyEventOut(Schema):
    id: int
    bottle: str = Field(..., description="A or B")
    event: str
    at: datetime
    by: str = Field(..., description="Username of who recorded the event")
    laboratory: str | None = Field(..., description="Laboratory code")
    seal_intact: bool | None
    id_matches: bool | None = Field(
        ..., description="Whether the ID read on the bottle matched (null: not read)"
    )
    volume_ml: int | None
    counter_signer: str | None
    counter_signer_name: str
    location: str
    remarks: str
    flaw: str | None = Field(..., description="The fatal flaw this event revealed, if any")
    recorded_at: datetime

    @staticmethod
    def resolve_bottle(obj):
        return obj.bottle.label

    @staticmethod
    def resolve_by(obj):
        return obj.actor.get_username()

    @staticmethod
    def resolve_laboratory(obj):
        return obj.laboratory.code if obj.laboratory_id else None

    @staticmethod
    def resolve_counter_signer(obj):
        return _username(obj.counter_signer) if obj.counter_signer_id else None

    @staticmethod
    def resolve_flaw(obj):
        return obj.flaw or None


class CustodyRecordedOut(CustodyEventOut):
    """The event recorded, with the specimen's state after it."""

    specimen_id: str
    state: str = Field(..., description="The specimen's state after the event")
    rejection_reason: str | None = Field(
        ...,
        description="When rejected: id_mismatch, seal_broken, no_collector or "
        "insufficient_specimen",
    )

    @staticmethod
    def resolve_specimen_id(obj):
        return obj.bottle.collection.specimen_id

    @staticmethod
    def resolve_state(obj):
        return obj.bottle.collection.state

    @staticmethod
    def resolve_rejection_reason(obj):
        return obj.bottle.collection.rejection_reason or None


class CollectionOut(Schema):
    """A collection (or refusal) under its specimen ID. ``person`` is given only to those
    who may know the donor (never to laboratory staff): otherwise it is null."""

    id: int
    specimen_id: str
    person: int | None = Field(
        ..., description="The donor's employment id; null when you may not know the donor"
    )
    reason: str
    collected_at: datetime
    specimen_type: str = Field(..., alias="specimen_type.code")
    split: bool
    panel: PanelRefOut = Field(..., alias="panel_version")
    state: str = Field(..., description="collected, refused, closed_screen or rejected")
    rejection_reason: str | None
    refusal_reason: str | None
    campaign: str | None = Field(..., description="Campaign code")
    observed: bool
    temperature_c: Decimal | None
    temperature_in_range: bool | None
    screen_result: str
    collected_by: str | None = Field(..., description="Username of the collector of record")
    bottles: list[BottleOut]
    recorded_at: datetime

    @staticmethod
    def resolve_person(obj, context):
        return obj.employment_id if _donor_visible(obj, context) else None

    @staticmethod
    def resolve_rejection_reason(obj):
        return obj.rejection_reason or None

    @staticmethod
    def resolve_refusal_reason(obj):
        return obj.refusal_reason or None

    @staticmethod
    def resolve_campaign(obj):
        return obj.campaign.code if obj.campaign_id else None

    @staticmethod
    def resolve_collected_by(obj):
        return _username(obj.collected_by) if obj.collected_by_id else None

    @staticmethod
    def resolve_bottles(obj):
        return list(obj.bottles.all())


class DonorOut(Schema):
    person: int = Field(..., description="Employment id, as in /api/v1/people")
    service_number: str
    family_name: str
    given_name: str
    name_km: str
    unit: str = Field(..., description="The donor's unit when collected (code)")


def _donor_visible(obj, context) -> bool:
    """Set by the endpoint once per collection (``donor_visible``), else asked of policy,
    once per request for collections alike in everything the answer depends on (a list's
    rows mostly are)."""
    visible = getattr(obj, "donor_visible", None)
    if visible is not None:
        return bool(visible)
    request = (context or {}).get("request")
    memo = getattr(request, "_testing_donor_visible", None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            request._testing_donor_visible = memo
    key = (obj.unit_id, obj.recorded_by_id, obj.collected_by_id, obj.session_id)
    if key not in memo:
        memo[key] = policies.can_see_donor(_request_user(context), obj)
    return memo[key]


class CollectionDetailOut(CollectionOut):
    """One specimen with its chain of custody. ``donor`` (and ``person``, ``site``,
    ``session``, ``selection``, ``collectors``, ``remarks``) only for those who may know the
    donor: null for laboratory staff. ``site`` is where the bottles were sealed, as in the
    custody timeline."""

    donor: DonorOut | None
    site: str
    session: int | None
    selection: int | None
    collectors: list[str] | None
    remarks: str | None
    custody: list[CustodyEventOut]

    @staticmethod
    def resolve_person(obj, context):
        return obj.employment_id if _donor_visible(obj, context) else None

    @staticmethod
    def resolve_donor(obj, context):
        if not _donor_visible(obj, context):
            return None
        employment = obj.employment
        return {
            "person": employment.pk,
            "service_number": employment.service_number,
            "family_name": employment.person.family_name,
            "given_name": employment.person.given_name,
            "name_km": employment.person.name_km,
            "unit": obj.unit.code,
        }

    @staticmethod
    def resolve_session(obj, context):
        return obj.session_id if _donor_visible(obj, context) else None

    @staticmethod
    def resolve_selection(obj, context):
        return obj.selection_id if _donor_visible(obj, context) else None

    @staticmethod
    def resolve_collectors(obj, context):
        if not _donor_visible(obj, context):
            return None
        return sorted(u.get_username() for u in obj.collectors.all())

    @staticmethod
    def resolve_remarks(obj, context):
        return obj.remarks if _donor_visible(obj, context) else None

    @staticmethod
    def resolve_custody(obj):
        return list(selectors.custody_timeline(obj))


class CampaignOut(Schema):
    id: int
    code: str
    name_en: str
    name_km: str
    agency: str = Field(..., alias="agency.code")
    unit: str = Field(..., alias="unit.code", description="The organising unit")
    mode: str = Field(..., description="census or random")
    state: str = Field(..., description="draft, active, complete or cancelled")
    starts_on: date
    ends_on: date
    rate_percent: Decimal | None
    frequency: str
    target_coverage_percent: Decimal
    by_unit: bool
    alternates: int
    panel: str | None = Field(..., description="Panel code; null: the agency's current panel")
    screen_negative_closes: bool
    depends_on: str | None = Field(..., description="Code of the campaign this one waits on")

    @staticmethod
    def resolve_panel(obj):
        return obj.panel.code if obj.panel_id else None

    @staticmethod
    def resolve_depends_on(obj):
        return obj.depends_on.code if obj.depends_on_id else None


class UnitProgressOut(Schema):
    unit: str
    eligible: int
    selected: int
    collected: int
    refused: int
    rejected: int
    closed_screen: int


class ProgressOut(Schema):
    eligible: int
    selected: int
    excused: int
    collected: int
    refused: int
    rejected: int
    closed_screen: int
    tested: int = Field(..., description="collected + refused + rejected + closed_screen")
    coverage: float = Field(..., description="tested / eligible, in %")
    target: float = Field(..., description="The campaign's target coverage, in %")
    by_unit: list[UnitProgressOut]


class DrawOut(Schema):
    id: int
    number: int
    state: str = Field(..., description="committed or drawn")
    algorithm: str
    seed_hash: str = Field(..., description="SHA-256 commitment, published before the draw")
    seed: str | None = Field(..., description="Revealed once drawn")
    committed_at: datetime
    drawn_at: datetime | None
    pool_size: int | None
    pool_digest: str
    sample_size: int | None
    alternates: int

    @staticmethod
    def resolve_seed(obj):
        return obj.seed if obj.state == "drawn" else None


class CampaignDetailOut(CampaignOut):
    progress: ProgressOut
    draws: list[DrawOut] | None = Field(
        ..., description="Only for those who may see draws (programme managers, auditors)"
    )

    @staticmethod
    def resolve_draws(obj):
        return getattr(obj, "draws_list", None)


class PanelVersionOut(Schema):
    version: int
    effective_from: date
    definition: dict
    source: str


class PanelOut(Schema):
    code: str
    name_en: str
    name_km: str
    specimen_type: str = Field(..., alias="specimen_type.code")
    is_default: bool
    agencies: list[str] = Field(..., description="Agencies whose current panel this is")
    versions: list[PanelVersionOut] = Field(..., description="Newest first")

    @staticmethod
    def resolve_agencies(obj):
        return sorted(a.code for a in obj.agencies.all())

    @staticmethod
    def resolve_versions(obj):
        return list(obj.versions.all())


class VerificationCheckOut(Schema):
    check: str
    passed: bool
    detail: str


class DrawVerificationOut(Schema):
    draw: int
    campaign: str
    number: int
    algorithm: str
    ok: bool = Field(..., description="Every check passed")
    seed_hash: str
    seed: str | None
    pool_size: int | None
    pool_digest: str
    selection_digest: str
    selected: int = Field(..., description="How many people the re-run selects")
    alternates: int = Field(..., description="How many alternates the re-run selects")
    checks: list[VerificationCheckOut]
