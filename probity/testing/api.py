"""The testing API (API.md): collections and the chain of custody, plus documented reads of
specimens, collections, campaigns (with progress), panels and draw verification.

Status codes, consistent with ``/api/v1/people``:

- ``403``: your roles do not include the action at all (e.g. a programme manager recording a
  collection, a commander reading collections), or the action is outside what you may do
  to a record you can see (a laboratory analyst recording a receipt at another laboratory).
- ``404``: the person or specimen does not exist *or* is outside your jurisdiction; the
  answer is the same so that it reveals nothing ("No person with id N within your
  jurisdiction.").
- ``422``: anything else wrong with the request, naming the field: an unknown campaign,
  panel, specimen type, laboratory or collector username, a time without offset or in the
  future, a custody event out of sequence.
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from probity.audit.services import access_record
from probity.core.api import ApiError, LimitOffsetPagination, require
from probity.org.models import Laboratory
from probity.personnel.models import Employment
from probity.testing import policies, selectors, services
from probity.testing.models import (
    Bottle,
    Campaign,
    Collection,
    Panel,
    Selection,
    SpecimenType,
)
from probity.testing.schemas import (
    CampaignDetailOut,
    CampaignOut,
    CollectionDetailOut,
    CollectionIn,
    CollectionOut,
    CustodyIn,
    CustodyRecordedOut,
    DrawVerificationOut,
    PanelOut,
)

router = Router(tags=["testing"])

_LAB_ONLY_EVENTS = frozenset({"received", "aliquoted", "stored", "disposed"})


def _field_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, message, [{"field": field, "message": message}])


def _no_person(pk: int) -> ApiError:
    return _field_error(
        "person", _("No person with id %(id)s within your jurisdiction.") % {"id": pk}, 404
    )


def _no_specimen(specimen_id: str) -> ApiError:
    return ApiError(404, _("No specimen %(id)s within your reach.") % {"id": specimen_id})


def _one_of(values) -> str:
    return _("One of: %(values)s") % {"values": ", ".join(values)}


def _has_any(user, *perms: str) -> bool:
    return user.is_active and any(user.has_perm(p) for p in perms)


def _collection_for_output(pk: int) -> Collection:
    return (
        Collection.objects.select_related(
            "specimen_type",
            "panel_version__panel",
            "campaign",
            "collected_by",
            "unit",
            "employment__person",
            "session",
        )
        .prefetch_related("bottles", "collectors")
        .get(pk=pk)
    )


# --- collections ----------------------------------------------------------------------------


def _lookup_collection_inputs(request, payload: CollectionIn, employment: Employment) -> dict:
    """The records the codes and usernames of the request name; a ``422`` naming the first
    field that names nothing."""
    user = request.user
    found: dict = {}
    code = payload.specimen_type.strip()
    found["specimen_type"] = SpecimenType.objects.filter(code=code).first()
    if found["specimen_type"] is None:
        raise _field_error(
            "specimen_type",
            _("There is no specimen type with code %(code)s.") % {"code": repr(code)},
        )
    found["campaign"] = None
    if payload.campaign and payload.campaign.strip():
        code = payload.campaign.strip()
        found["campaign"] = selectors.campaigns_for(user).filter(code=code).first()
        if found["campaign"] is None:
            raise _field_error(
                "campaign",
                _("There is no campaign with code %(code)s you can see.") % {"code": repr(code)},
            )
    found["panel"] = None
    if payload.panel and payload.panel.strip():
        code = payload.panel.strip()
        found["panel"] = Panel.objects.filter(code=code).first()
        if found["panel"] is None:
            raise _field_error(
                "panel", _("There is no drug panel with code %(code)s.") % {"code": repr(code)}
            )
    found["session"] = None
    if payload.session is not None:
        session = selectors.session_get(user, payload.session)
        if session is None:
            raise _field_error(
                "session",
                _("There is no collection session %(id)s you can see.") % {"id": payload.session},
            )
        if not policies.can_collect_in(user, session):
            raise ApiError(
                403,
                _("Only a member of the session's team may record collections in it."),
                [{"field": "session", "message": _("You are not on this session's team.")}],
            )
        found["session"] = session
    found["selection"] = None
    if payload.selection is not None:
        selection = (
            Selection.objects.select_related("draw__campaign")
            .filter(pk=payload.selection, employment=employment)
            .first()
        )
        if selection is None:
            raise _field_error(
                "selection",
                _("Selection %(id)s is not a selection of this person.")
                % {"id": payload.selection},
            )
        campaign = found["campaign"]
        if campaign is not None and selection.draw.campaign_id != campaign.pk:
            raise _field_error("selection", _("The selection belongs to another campaign."))
        if campaign is None:
            found["campaign"] = selection.draw.campaign
        found["selection"] = selection
    users = []
    User = get_user_model()
    for index, name in enumerate(payload.collectors):
        member = User.objects.filter(username=name.strip(), is_active=True).first()
        if member is None:
            raise _field_error(
                f"collectors.{index}",
                _("There is no active user %(name)s.") % {"name": repr(name.strip())},
            )
        if not (member.is_superuser or member.has_perm(policies.COLLECT)):
            raise _field_error(
                f"collectors.{index}",
                _("User %(name)s is not a collector.") % {"name": member.username},
            )
        if member not in users:
            users.append(member)
    found["collectors"] = users
    return found


@router.post(
    "/collections",
    response={201: CollectionOut},
    summary="Record a specimen collected from a person (API.md)",
    description=(
        "Requires the `testing.collect` permission (collectors), else `403`. `person` is the "
        "employment id of `/api/v1/people`, as a number or a string of digits; a person who "
        "does not exist or is outside the jurisdiction where you collect is `404` ('No person "
        "with id N within your jurisdiction'), as for `/api/v1/people/{id}`. `collected_at` "
        "needs its UTC offset and cannot be in the future. An unknown `specimen_type`, "
        "`campaign`, `panel`, `session`, `selection` or collector username is `422` naming "
        "the field (`collectors.<index>` for a username). `identity_checked`, "
        "`donor_confirmed` and `collector_confirmed` default to true: sending the collection "
        "attests them. The response carries the generated `specimen_id`, printed on both "
        "bottles, the panel version it will be judged by and the sealed bottles."
    ),
)
def record_collection(request, payload: CollectionIn):
    user = request.user
    require(_has_any(user, policies.COLLECT), _("recording collections"))
    employment = (
        Employment.objects.select_related("unit", "agency", "person")
        .filter(pk=payload.person)
        .first()
    )
    if employment is None or not policies.can_collect_from(user, employment):
        raise _no_person(payload.person)
    found = _lookup_collection_inputs(request, payload, employment)
    collection = services.collection_record(
        actor=user,
        employment=employment,
        reason=payload.reason,
        collected_at=payload.collected_at,
        split=payload.split,
        observed=payload.observed,
        temperature_c=payload.temperature_c,
        temperature_in_range=payload.temperature_in_range,
        identity_checked=payload.identity_checked,
        identity_method=payload.identity_method,
        donor_confirmed=payload.donor_confirmed,
        collector_confirmed=payload.collector_confirmed,
        seal_a=payload.seal_a,
        seal_b=payload.seal_b,
        volume_a_ml=payload.volume_a_ml,
        volume_b_ml=payload.volume_b_ml,
        screen_result=payload.screen_result,
        remarks=payload.remarks,
        site=payload.site,
        **found,
    )
    return Status(201, _collection_for_output(collection.pk))


@router.get(
    "/collections",
    response=list[CollectionOut],
    summary="Collections within your reach",
    description=(
        "Programme managers and auditors: every collection in their jurisdiction; "
        "collectors: those of their own sessions or that they recorded; laboratory staff: "
        "the specimens handed over to or received at their laboratory, with `person` null. "
        "Filters: `campaign` (code), `state` (collected, refused, closed_screen, rejected), "
        "`q` (specimen ID, or a part of it). Newest first. Roles without any of these "
        "(commanders, for instance) get `403`."
    ),
)
@paginate(LimitOffsetPagination)
def list_collections(request, campaign: str = "", state: str = "", q: str = ""):
    user = request.user
    require(
        _has_any(user, policies.VIEW_COLLECTION, policies.COLLECT, policies.RECEIVE),
        _("viewing collections"),
    )
    for name, value in (("campaign", campaign), ("state", state), ("q", q)):
        if "\x00" in value or len(value) > 100:
            raise _field_error(
                name, _("The %(name)s parameter is malformed or too long.") % {"name": name}
            )
    filter_campaign = None
    if campaign.strip():
        filter_campaign = Campaign.objects.filter(code=campaign.strip()).first()
        if filter_campaign is None:
            raise _field_error(
                "campaign",
                _("There is no campaign with code %(code)s.") % {"code": repr(campaign)},
            )
    if state and state not in Collection.State.values:
        raise _field_error("state", _one_of(Collection.State.values))
    return (
        selectors.collections_for(user, campaign=filter_campaign, state=state, q=q.strip())
        .select_related("collected_by")
        .prefetch_related("bottles")
    )


@router.get(
    "/specimens/{specimen_id}",
    response=CollectionDetailOut,
    summary="One specimen with its chain of custody",
    description=(
        "The collection under a specimen ID (any spelling a scanner or a person produces: "
        "case and dashes do not matter), its bottles and custody timeline. `donor`, "
        "`person`, `session`, `selection`, `collectors` and `remarks` are given only "
        "to those who may know the donor: laboratory staff get them null. `404` when the "
        "specimen does not exist or is not within your reach."
    ),
)
def get_specimen(request, specimen_id: str):
    user = request.user
    found = selectors.collection_by_specimen(user, specimen_id[:40])
    if found is None:
        raise _no_specimen(specimen_id[:40])
    collection = _collection_for_output(found.pk)
    collection.donor_visible = policies.can_see_donor(user, collection)
    if collection.donor_visible:
        access_record(
            user=user,
            object_type="testing.collection",
            object_id=str(collection.pk),
            purpose="api",
        )
    return collection


# --- custody --------------------------------------------------------------------------------


@router.post(
    "/specimens/{specimen_id}/custody",
    response={201: CustodyRecordedOut},
    summary="Record a custody event of a bottle (API.md)",
    description=(
        "`event`: sealed, handed_over, received, aliquoted, stored, disposed, in the order of "
        "a bottle's life (`422` naming `event` otherwise; nothing after `disposed`). "
        "Collectors record the sealing and hand-overs of their collections; laboratory staff "
        "record what happens at a laboratory they work for (`laboratory` is then required; "
        "another laboratory is `403`). A hand-over should name the destination `laboratory`: "
        "its staff find the specimen by it. On receipt `seal_intact` is required; a broken "
        "seal, a `specimen_id_on_bottle` that does not match, a collection without a "
        "collector of record, or too little specimen (`volume_ml`) rejects the specimen: the "
        "event is still recorded, the answer is `201` and `state` is `rejected` with its "
        "`rejection_reason`. `at` needs its offset, cannot be in the future nor before the "
        "collection or the bottle's previous event. Unknown specimen (or not within your "
        "reach): `404`; unknown `laboratory` or `counter_signer`, or bottle B of an unsplit "
        "specimen: `422` naming the field."
    ),
)
def record_custody(request, specimen_id: str, payload: CustodyIn):
    user = request.user
    require(_has_any(user, policies.RECORD_CUSTODY), _("recording custody events"))
    found = selectors.collection_by_specimen(user, specimen_id[:40])
    if found is None:
        raise _no_specimen(specimen_id[:40])
    collection = Collection.objects.select_related("unit", "session").get(pk=found.pk)
    bottle = Bottle.objects.filter(collection=collection, label=payload.bottle).first()
    if bottle is None:
        if payload.bottle == "B" and not collection.split:
            raise _field_error("bottle", _("This specimen was not split: it has no bottle B."))
        raise _field_error(
            "bottle", _("This specimen has no bottle %(label)s.") % {"label": payload.bottle}
        )
    laboratory = None
    if payload.laboratory and payload.laboratory.strip():
        code = payload.laboratory.strip()
        laboratory = Laboratory.objects.filter(code=code).first()
        if laboratory is None:
            raise _field_error(
                "laboratory",
                _("There is no laboratory with code %(code)s.") % {"code": repr(code)},
            )
    elif payload.event in _LAB_ONLY_EVENTS:
        raise _field_error("laboratory", _("Say at which laboratory this happens."))
    counter_signer = None
    if payload.counter_signer and payload.counter_signer.strip():
        name = payload.counter_signer.strip()
        counter_signer = get_user_model().objects.filter(username=name, is_active=True).first()
        if counter_signer is None:
            raise _field_error(
                "counter_signer", _("There is no active user %(name)s.") % {"name": repr(name)}
            )
    if not policies.can_record_custody(
        user, collection, event=payload.event, laboratory=laboratory
    ):
        if laboratory is not None:
            refused = _("You may not record '%(event)s' for this specimen at %(laboratory)s.") % {
                "event": payload.event,
                "laboratory": laboratory.code,
            }
        else:
            refused = _("You may not record '%(event)s' for this specimen.") % {
                "event": payload.event
            }
        raise ApiError(
            403,
            refused,
            [{"field": "event", "message": _("Not allowed for your roles or laboratory.")}],
        )
    event = services.custody_record(
        actor=user,
        bottle=bottle,
        event=payload.event,
        at=payload.at,
        laboratory=laboratory,
        seal_intact=payload.seal_intact,
        specimen_id_on_bottle=payload.specimen_id_on_bottle,
        volume_ml=payload.volume_ml,
        counter_signer=counter_signer,
        counter_signer_name=payload.counter_signer_name,
        location=payload.location,
        remarks=payload.remarks,
    )
    event = (
        type(event)
        .objects.select_related("bottle__collection", "actor", "counter_signer", "laboratory")
        .get(pk=event.pk)
    )
    return Status(201, event)


# --- campaigns, panels, draws ---------------------------------------------------------------


@router.get(
    "/campaigns",
    response=list[CampaignOut],
    summary="Campaigns within your reach",
    description=(
        "Campaigns organised in your jurisdiction or covering it (a district's collectors "
        "see the national round). Filters: `state` (draft, active, complete, cancelled), "
        "`q` (code or name). `403` without `testing.view_campaign`."
    ),
)
@paginate(LimitOffsetPagination)
def list_campaigns(request, state: str = "", q: str = ""):
    user = request.user
    require(_has_any(user, policies.VIEW_CAMPAIGN), _("viewing campaigns"))
    if "\x00" in q or len(q) > 100:
        raise _field_error(
            "q", _("The %(name)s parameter is malformed or too long.") % {"name": "q"}
        )
    if state and state not in Campaign.State.values:
        raise _field_error("state", _one_of(Campaign.State.values))
    return selectors.campaigns_for(user, state=state, q=q.strip()).select_related("panel")


@router.get(
    "/campaigns/{code}",
    response=CampaignDetailOut,
    summary="One campaign with its progress",
    description=(
        "`progress`: eligible people today, selected (everyone eligible for a census), "
        "collected, refused, rejected, closed on a negative screen, coverage against the "
        "target, and the same by unit. `draws` (commitments, revealed seeds, pool digests) "
        "only for those who may see draws, else null. `404` when the campaign does not "
        "exist or is not within your reach."
    ),
)
def get_campaign(request, code: str):
    user = request.user
    require(_has_any(user, policies.VIEW_CAMPAIGN), _("viewing campaigns"))
    campaign = selectors.campaigns_for(user).select_related("panel").filter(code=code).first()
    if campaign is None:
        raise ApiError(404, _("No campaign %(code)s within your reach.") % {"code": code[:40]})
    progress = selectors.campaign_progress(campaign)
    campaign.progress = {
        "eligible": progress.eligible,
        "selected": progress.selected,
        "excused": progress.excused,
        "collected": progress.collected,
        "refused": progress.refused,
        "rejected": progress.rejected,
        "closed_screen": progress.closed_screen,
        "tested": progress.tested,
        "coverage": progress.coverage_percent,
        "target": progress.target_percent,
        "by_unit": progress.by_unit,
    }
    campaign.draws_list = (
        list(selectors.draws_for(user, campaign))
        if policies.can_view_draws(user, campaign)
        else None
    )
    return campaign


@router.get(
    "/panels",
    response=list[PanelOut],
    summary="Drug panels with every version",
    description=(
        "Each panel's code, names, specimen type, the agencies using it as their current "
        "panel, and its versions (newest first) with `effective_from` and the `definition` "
        "(cutoffs and validity rules). Anyone working in testing may read them."
    ),
)
@paginate(LimitOffsetPagination)
def list_panels(request):
    require(policies.can_view_panels(request.user), _("viewing drug panels"))
    return selectors.panels().order_by("code")


@router.get(
    "/draws/{int:draw_id}/verification",
    response=DrawVerificationOut,
    summary="Re-run a draw and check it",
    description=(
        "Re-runs the published algorithm on the revealed seed and the frozen pool and "
        "compares with the stored selection and the audit log: each check with whether it "
        "passed. Only for those who may see the campaign's draws (programme managers and "
        "auditors): `403` without `testing.view_draw`, `404` for a draw outside your reach."
    ),
)
def verify_draw(request, draw_id: int):
    user = request.user
    require(_has_any(user, policies.VIEW_DRAW), _("viewing draws"))
    draw = selectors.draw_get(user, draw_id)
    if draw is None or not policies.can_view_draws(user, draw.campaign):
        raise ApiError(404, _("No draw %(id)s within your reach.") % {"id": draw_id})
    result = selectors.draw_verify(draw)
    return {
        "draw": draw.pk,
        "campaign": draw.campaign.code,
        "number": draw.number,
        "algorithm": draw.algorithm,
        "ok": result.ok,
        "seed_hash": draw.seed_hash,
        "seed": draw.seed if draw.state == "drawn" else None,
        "pool_size": draw.pool_size,
        "pool_digest": draw.pool_digest,
        "selection_digest": draw.selection_digest,
        "selected": len(result.selected),
        "alternates": len(result.alternates),
        "checks": [
            {"check": name, "passed": passed, "detail": detail}
            for name, passed, detail in result.checks
        ],
    }
