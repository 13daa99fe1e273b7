"""What the people API reads and writes (API.md: ``POST``/``GET /api/v1/people``).

A person in the API is one **employment**: ``id`` is the employment's id (the same number
as in the web page ``/people/<id>/``), ``person_id`` the person's, who may have served in
more than one agency under different service numbers.
"""

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import field_validator

from probity.personnel import rules, selectors

SexCode = Literal["M", "F", ""]
StatusCode = Literal[rules.STATUSES]  # type: ignore[valid-type]


def _no_control_characters(value):
    """A NUL or another control character (other than tab and newlines) is never a name."""
    if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("Control characters are not allowed.")
    return value


def _not_in_the_future(value: date | None) -> date | None:
    if value is not None and value > timezone.localdate():
        raise ValueError("The date of birth cannot be in the future.")
    return value


class PersonIn(Schema):
    """``POST /people``: required ``service_number``, ``family_name``, ``given_name``,
    ``unit``. The unit determines the agency."""

    service_number: str = Field(..., min_length=1, max_length=30, examples=["NP-000123"])
    family_name: str = Field(..., min_length=1, max_length=100, examples=["Sok"])
    given_name: str = Field(..., min_length=1, max_length=100, examples=["Dara"])
    name_km: str = Field("", max_length=200, examples=["សុខ តារា"])
    sex: SexCode = ""
    date_of_birth: date | None = None
    unit: str = Field(..., min_length=1, max_length=40, description="Unit code")
    rank: str = Field("", max_length=20, description="Rank code, of the unit's agency")
    position: str = Field("", max_length=200)
    national_id: str = Field("", max_length=30)
    start_date: date | None = Field(
        None, description="Start of the employment; the person is active from then (or today)"
    )

    _text = field_validator(
        "service_number",
        "family_name",
        "given_name",
        "name_km",
        "unit",
        "rank",
        "position",
        "national_id",
    )(_no_control_characters)
    _born = field_validator("date_of_birth")(_not_in_the_future)


class PersonPatch(Schema):
    """``PATCH /people/{id}``: identity only; the fields sent are changed."""

    family_name: str | None = Field(None, max_length=100)
    given_name: str | None = Field(None, max_length=100)
    name_km: str | None = Field(None, max_length=200)
    sex: SexCode | None = None
    date_of_birth: date | None = None
    national_id: str | None = Field(None, max_length=30)

    _text = field_validator("family_name", "given_name", "name_km", "national_id")(
        _no_control_characters
    )
    _born = field_validator("date_of_birth")(_not_in_the_future)


class StatusIn(Schema):
    """``POST /people/{id}/status``: a new entry in the status history."""

    status: StatusCode
    effective_date: date
    reason: str = Field("", max_length=5000, description="Required for every status but active")
    reference: str = Field("", max_length=200, description="The order or document")
    reinstatement: bool = Field(
        False, description="Only way back to active for a dismissed, resigned or retired person"
    )

    _text = field_validator("reason", "reference")(_no_control_characters)


class EmploymentIn(Schema):
    """``POST /people/{id}/employment``: transfer, rank or position change (any of them)."""

    effective_date: date
    unit: str | None = Field(None, max_length=40, description="New unit code (same agency)")
    rank: str | None = Field(None, max_length=20, description="New rank code")
    position: str | None = Field(None, max_length=200)
    reference: str = Field("", max_length=200, description="The order or document")

    _text = field_validator("unit", "rank", "position", "reference")(_no_control_characters)


class PersonOut(Schema):
    """An employment with its person; dotted aliases read through the relations."""

    id: int = Field(..., description="The employment's id (also in /people/<id>/ pages)")
    person_id: int
    service_number: str
    family_name: str = Field(..., alias="person.family_name")
    given_name: str = Field(..., alias="person.given_name")
    name_km: str = Field(..., alias="person.name_km")
    sex: str = Field(..., alias="person.sex")
    date_of_birth: date | None = Field(..., alias="person.date_of_birth")
    agency: str = Field(..., alias="agency.code")
    unit: str = Field(..., alias="unit.code")
    unit_name: str = Field(..., alias="unit.name")
    rank: str | None
    position: str
    national_id: str = Field(..., alias="person.national_id")
    start_date: date | None
    end_date: date | None
    status: str | None = Field(..., description="Derived from the status history, as of today")

    @staticmethod
    def resolve_rank(obj):
        return obj.rank.code if obj.rank_id else None

    @staticmethod
    def resolve_status(obj):
        return getattr(obj, "current_status", None)


class StatusChangeOut(Schema):
    id: int
    person: int = Field(..., description="The employment's id")
    status: str
    effective_date: date
    reason: str
    reference: str
    reinstatement: bool
    recorded_by: str
    recorded_at: datetime
    import_batch: int | None

    @staticmethod
    def resolve_person(obj):
        return obj.employment_id

    @staticmethod
    def resolve_recorded_by(obj):
        return obj.recorded_by.get_username()

    @staticmethod
    def resolve_import_batch(obj):
        return obj.import_batch_id


class EmploymentEventOut(Schema):
    id: int
    kind: str
    effective_date: date
    before: dict
    after: dict
    reference: str
    recorded_by: str
    recorded_at: datetime
    import_batch: int | None

    @staticmethod
    def resolve_recorded_by(obj):
        return obj.recorded_by.get_username()

    @staticmethod
    def resolve_import_batch(obj):
        return obj.import_batch_id


class PersonDetailOut(PersonOut):
    status_history: list[StatusChangeOut]
    employment_events: list[EmploymentEventOut]

    @staticmethod
    def resolve_status_history(obj):
        return list(selectors.status_history(obj))

    @staticmethod
    def resolve_employment_events(obj):
        return list(selectors.employment_timeline(obj))
