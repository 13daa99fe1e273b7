"""The people API (API.md): create and list people, read, correct, record status and
employment changes. Always scoped to the caller's jurisdiction, as in the web UI.

``id`` is the **employment** id: a person serving in an agency under a service number. It is
the number of the web page ``/people/<id>/`` and what other endpoints take as ``person``;
``person_id`` identifies the human being across agencies. Path ids are integers, so
``/people/import`` (another router) never reaches these endpoints.
"""

from django.db import IntegrityError
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from probity.audit.services import access_record
from probity.core.api import ApiError, LimitOffsetPagination, require
from probity.org import selectors as org_selectors
from probity.org.models import Rank, Unit
from probity.personnel import policies, rules, selectors, services
from probity.personnel.models import Employment
from probity.personnel.schemas import (
    EmploymentIn,
    PersonDetailOut,
    PersonIn,
    PersonOut,
    PersonPatch,
    StatusChangeOut,
    StatusIn,
)

router = Router(tags=["personnel"])

_VIEW = "personnel.view_person"
_CHANGE = "personnel.change_person"
_STATUS = "personnel.record_status"


def _require_perm(request, perm: str, doing: str) -> None:
    require(request.user.has_perm(perm), doing)


def _one_of(values) -> str:
    return _("One of: %(values)s") % {"values": ", ".join(values)}


def _visible(request, pk: int) -> Employment:
    _require_perm(request, _VIEW, _("viewing people"))
    employment = selectors.employment_get(request.user, pk)
    if employment is None:
        raise ApiError(404, _("No person with id %(id)s within your jurisdiction.") % {"id": pk})
    return employment


def _fresh(pk: int) -> Employment:
    """The employment as the API shows it, with its derived status (after a write)."""
    return (
        Employment.objects.select_related("person", "unit", "rank", "agency")
        .annotate(current_status=selectors.status_on())
        .get(pk=pk)
    )


def _unit_error(code: str) -> ApiError:
    return ApiError(
        422,
        _("There is no unit with code %(code)s.") % {"code": repr(code)},
        [{"field": "unit", "message": _("No unit with code %(code)s.") % {"code": repr(code)}}],
    )


def _rank_for(code: str, agency_id: int) -> Rank:
    rank = Rank.objects.filter(agency_id=agency_id, code=code).first()
    if rank is None:
        raise ApiError(
            422,
            _("The unit's agency has no rank with code %(code)s.") % {"code": repr(code)},
            [
                {
                    "field": "rank",
                    "message": _("No rank with code %(code)s in the unit's agency.")
                    % {"code": repr(code)},
                }
            ],
        )
    return rank


def _duplicate(service_number: str) -> ApiError:
    message = _("Service number %(value)s is already used in this agency.") % {
        "value": service_number
    }
    return ApiError(409, message, [{"field": "service_number", "message": message}])


@router.post(
    "/people",
    response={201: PersonOut},
    summary="Register a person in a unit (API.md)",
    description=(
        "The unit determines the agency. `409` when the service number is already used in "
        "that agency; `403` when the unit is outside your jurisdiction; `422` naming the "
        "field for anything else. The response's `id` is the employment id."
    ),
)
def create_person(request, payload: PersonIn):
    user = request.user
    _require_perm(request, _CHANGE, _("adding people"))
    unit = Unit.objects.select_related("agency").filter(code=payload.unit.strip()).first()
    if unit is None:
        raise _unit_error(payload.unit)
    if not policies.can_add_person_in(user, unit):
        raise ApiError(
            403,
            _("Unit %(code)s is outside your jurisdiction: you may not add people there.")
            % {"code": unit.code},
            [{"field": "unit", "message": _("Outside your jurisdiction.")}],
        )
    rank = _rank_for(payload.rank.strip(), unit.agency_id) if payload.rank.strip() else None
    service_number = payload.service_number.strip()
    if Employment.objects.filter(agency_id=unit.agency_id, service_number=service_number).exists():
        raise _duplicate(service_number)
    try:
        person = services.person_create(
            actor=user,
            family_name=payload.family_name,
            given_name=payload.given_name,
            service_number=service_number,
            unit=unit,
            name_km=payload.name_km,
            sex=payload.sex,
            date_of_birth=payload.date_of_birth,
            national_id=payload.national_id,
            rank=rank,
            position=payload.position,
            start_date=payload.start_date,
        )
    except IntegrityError as exc:  # a concurrent request took the number first
        if Employment.objects.filter(
            agency_id=unit.agency_id, service_number=service_number
        ).exists():
            raise _duplicate(service_number) from exc
        raise
    employment = person.employments.get(agency_id=unit.agency_id, service_number=service_number)
    return Status(201, _fresh(employment.pk))


@router.get(
    "/people",
    response=list[PersonOut],
    summary="People within your jurisdiction (API.md)",
    description=(
        "Filters: `q` (name in Latin or Khmer script, or service number), `unit` (a unit "
        "code; its whole subtree), `status`, `rank` (rank code). Sorted by name; `sort` "
        "takes `name`, `service_number`, `unit`, `rank`, `status`, each also with `-`."
    ),
)
@paginate(LimitOffsetPagination)
def list_people(
    request, q: str = "", unit: str = "", status: str = "", rank: str = "", sort: str = "name"
):
    _require_perm(request, _VIEW, _("viewing people"))
    for name, value in (("q", q), ("unit", unit), ("rank", rank)):
        if "\x00" in value:
            raise ApiError(
                422,
                _("The %(name)s parameter holds a NUL character.") % {"name": name},
                [{"field": name, "message": _("NUL characters are not allowed.")}],
            )
    filter_unit = None
    if unit:
        filter_unit = org_selectors.unit_get(request.user, unit)
        if filter_unit is None:
            raise ApiError(
                422,
                _("No unit with code %(code)s within your jurisdiction.") % {"code": repr(unit)},
                [{"field": "unit", "message": _("No such unit within your jurisdiction.")}],
            )
    if status and status not in rules.STATUSES:
        raise ApiError(
            422,
            _("Unknown status %(value)s.") % {"value": repr(status)},
            [{"field": "status", "message": _one_of(rules.STATUSES)}],
        )
    if sort not in selectors.SORTS:
        raise ApiError(
            422,
            _("Unknown sort %(value)s.") % {"value": repr(sort)},
            [{"field": "sort", "message": _one_of(selectors.SORTS)}],
        )
    return selectors.employments_for(
        request.user, q=q.strip(), unit=filter_unit, rank=rank.strip(), status=status, sort=sort
    )


@router.get(
    "/people/{int:id}",
    response=PersonDetailOut,
    summary="One person, with the status history and employment events",
)
def get_person(request, id: int):  # noqa: A002 - the API's name
    employment = _visible(request, id)
    access_record(
        user=request.user,
        object_type="personnel.person",
        object_id=employment.person_id,
        purpose="api",
    )
    return employment


@router.patch(
    "/people/{int:id}",
    response=PersonOut,
    summary="Correct a person's identity (names, sex, date of birth, national ID)",
)
def update_person(request, id: int, payload: PersonPatch):  # noqa: A002
    employment = _visible(request, id)
    if not policies.can_change_employment(request.user, employment):
        raise ApiError(403, _("Your roles do not include changing people in this unit."))
    changes = payload.dict(exclude_unset=True)
    for name in ("name_km", "sex", "national_id", "family_name", "given_name"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    services.person_update(actor=request.user, person=employment.person, **changes)
    return _fresh(employment.pk)


@router.post(
    "/people/{int:id}/status",
    response={201: StatusChangeOut},
    summary="Record a status change (suspension, dismissal, reinstatement, ...)",
    description=(
        "Refused with `422` naming `status` when the rules forbid the change (e.g. a "
        "dismissed person made active without `reinstatement`), naming `effective_date` "
        "when it precedes the last recorded change, `reason` when one is needed."
    ),
)
def record_status(request, id: int, payload: StatusIn):  # noqa: A002
    employment = _visible(request, id)
    if not policies.can_record_status(request.user, employment):
        raise ApiError(403, _("Your roles do not include recording status changes in this unit."))
    change = services.status_record(
        actor=request.user,
        employment=employment,
        status=payload.status,
        effective_date=payload.effective_date,
        reason=payload.reason,
        reference=payload.reference,
        reinstatement=payload.reinstatement,
    )
    return Status(201, change)


@router.post(
    "/people/{int:id}/employment",
    response=PersonOut,
    summary="Transfer to another unit, change rank or position",
    description=(
        "Any of `unit`, `rank`, `position`; each change becomes a dated event. A transfer "
        "stays within the agency and needs the new unit within your jurisdiction. Answers "
        "the person as it now is."
    ),
)
def change_employment(request, id: int, payload: EmploymentIn):  # noqa: A002
    user = request.user
    employment = _visible(request, id)
    if not policies.can_change_employment(user, employment):
        raise ApiError(403, _("Your roles do not include changing people in this unit."))
    unit = rank = None
    if payload.unit:
        unit = Unit.objects.filter(code=payload.unit.strip()).first()
        if unit is None:
            raise _unit_error(payload.unit)
        if not policies.can_add_person_in(user, unit):
            raise ApiError(
                403,
                _("Unit %(code)s is outside your jurisdiction: no transfers there.")
                % {"code": unit.code},
                [{"field": "unit", "message": _("Outside your jurisdiction.")}],
            )
    if payload.rank:
        rank = _rank_for(payload.rank.strip(), employment.agency_id)
    services.employment_change(
        actor=user,
        employment=employment,
        effective_date=payload.effective_date,
        unit=unit,
        rank=rank,
        position=payload.position,
        reference=payload.reference,
    )
    return _fresh(employment.pk)
