"""The collectors' and laboratories' pages: sessions (the collector's worklist), collection and
refusal, the specimen search, a specimen's custody timeline, custody events and the PDFs.

Thin views in the house style: parse, check ``policies``, call a service or a selector,
render. Outside the user's scope a session or specimen is simply not found (404); a role
without any of the permissions is refused (403). Laboratory staff never see who the donor is.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from probity.audit.services import access_record
from probity.org.models import Laboratory
from probity.testing import collection_forms as forms
from probity.testing import documents, policies, rules, selectors, services
from probity.testing.models import Collection, CollectionSession, CustodyEvent

PAGE_SIZE = 50

SESSION_PERMISSIONS = (policies.COLLECT, policies.VIEW_COLLECTION)
SPECIMEN_PERMISSIONS = (
    policies.COLLECT,
    policies.VIEW_COLLECTION,
    policies.RECORD_CUSTODY,
    policies.RECEIVE,
)

# The next states a session may be moved to, and the button that does it.
SESSION_MOVES = {
    CollectionSession.State.PLANNED: [CollectionSession.State.OPEN],
    CollectionSession.State.OPEN: [CollectionSession.State.CLOSED],
    CollectionSession.State.CLOSED: [CollectionSession.State.OPEN],
}

STATE_BADGES = {
    "waiting": "text-bg-light border",
    Collection.State.COLLECTED: "text-bg-success",
    Collection.State.CLOSED_SCREEN: "text-bg-success",
    Collection.State.REFUSED: "text-bg-warning",
    Collection.State.REJECTED: "text-bg-danger",
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _has_any(user, permissions) -> bool:
    return user.is_authenticated and any(user.has_perm(p) for p in permissions)


def _session_or_404(request, pk: int) -> CollectionSession:
    _require(_has_any(request.user, SESSION_PERMISSIONS))
    session = selectors.session_get(request.user, pk)
    if session is None:
        raise Http404(_("No such session."))
    return session


def _collection_or_404(request, specimen_id: str) -> Collection:
    _require(_has_any(request.user, SPECIMEN_PERMISSIONS))
    collection = selectors.collection_by_specimen(request.user, specimen_id)
    if collection is None:
        raise Http404(_("No such specimen within your reach."))
    return collection


def state_display(collection: Collection | None) -> dict:
    """What a worklist or specimen badge shows; the words carry the meaning, not the colour."""
    if collection is None:
        return {"value": "waiting", "label": _("Waiting"), "css": STATE_BADGES["waiting"]}
    return {
        "value": collection.state,
        "label": collection.get_state_display(),
        "css": STATE_BADGES.get(collection.state, "text-bg-secondary"),
    }


def _form_page(request, form, *, title, submit, cancel_url, session=None, intro="", status=200):
    return render(
        request,
        "testing/session_form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel_url,
            "session": session,
            "intro": intro,
        },
        status=status,
    )


# --- sessions -------------------------------------------------------------------------------


@require_GET
def sessions(request):
    user = request.user
    _require(_has_any(user, SESSION_PERMISSIONS))
    mine = list(selectors.sessions_for(user, mine=True)[:PAGE_SIZE])
    others = selectors.sessions_for(user).exclude(pk__in=[s.pk for s in mine])
    page = Paginator(others, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "mine": mine,
        "page": page,
        "can_add": forms.units_where_user_may_collect(user).exists(),
    }
    return render(request, "testing/sessions.html", context)


@require_http_methods(["GET", "POST"])
def session_add(request):
    user = request.user
    _require(user.has_perm(policies.COLLECT))
    form = forms.SessionForm(request.POST or None, user=user)
    if not form.fields["unit"].queryset.exists():
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _require(policies.can_create_session_in(user, data["unit"]))
        try:
            session = services.session_create(
                actor=user,
                unit=data["unit"],
                site=data["site"],
                date=data["date"],
                team=list(data["team"]),
                campaign=data["campaign"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The session was created."))
            return redirect("testing:session", pk=session.pk)
    return _form_page(
        request,
        form,
        title=_("Plan a collection session"),
        intro=_("A place, a day and the team. Put people on its list next."),
        submit=_("Create the session"),
        cancel_url=reverse("testing:sessions"),
    )


@require_GET
def session(request, pk: int):
    user = request.user
    session = _session_or_404(request, pk)
    visible = set(selectors.collections_for(user, session=session).values_list("pk", flat=True))
    rows = []
    counts = {"waiting": 0, "done": 0}
    for entry, collection in selectors.session_list(session):
        waiting = collection is None
        counts["waiting" if waiting else "done"] += 1
        rows.append(
            {
                "entry": entry,
                "collection": collection,
                "visible": collection is not None and collection.pk in visible,
                "state": state_display(collection),
                # A rejected specimen may be collected again; anything else is done.
                "to_do": waiting or collection.state == Collection.State.REJECTED,
            }
        )
    can_manage = policies.can_manage_session(user, session)
    context = {
        "session": session,
        "team": session.team.order_by("username"),
        "rows": rows,
        "counts": counts,
        "can_collect": policies.can_collect_in(user, session)
        and session.state != CollectionSession.State.CLOSED,
        "can_manage": can_manage,
        "moves": [
            {"value": state, "label": CollectionSession.State(state).label}
            for state in SESSION_MOVES[session.state]
        ]
        if can_manage
        else [],
        "can_add_draw": can_manage
        and session.campaign_id is not None
        and session.state != CollectionSession.State.CLOSED,
        "can_add_people": can_manage and session.state != CollectionSession.State.CLOSED,
    }
    return render(request, "testing/session.html", context)


def _managed_session(request, pk: int) -> CollectionSession:
    session = _session_or_404(request, pk)
    _require(policies.can_manage_session(request.user, session))
    return session


def _add_to_list(request, pk: int, form_class, add, *, title: str, intro: str):
    """A form that puts people on a managed session's list: ``add(user, session, data)``
    calls the service and returns how many were added."""
    user = request.user
    session = _managed_session(request, pk)
    form = form_class(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            added = add(user, session, form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(count)s people were put on the list.") % {"count": added}
            )
            return redirect("testing:session", pk=session.pk)
    return _form_page(
        request,
        form,
        title=title,
        intro=intro,
        submit=_("Add them"),
        cancel_url=reverse("testing:session", args=[session.pk]),
        session=session,
    )


@require_http_methods(["GET", "POST"])
def session_add_draw(request, pk: int):
    return _add_to_list(
        request,
        pk,
        forms.AddDrawForm,
        lambda user, session, data: services.session_add_draw(
            actor=user, session=session, draw=data["draw"]
        ),
        title=_("Put a draw's people on the list"),
        intro=_("Those drawn in the unit visited and its sub-units, not yet on the list."),
    )


@require_http_methods(["GET", "POST"])
def session_add_people(request, pk: int):
    return _add_to_list(
        request,
        pk,
        forms.AddPeopleForm,
        lambda user, session, data: services.session_add_people(
            actor=user,
            session=session,
            employments=data["service_numbers"],
            reason=data["reason"],
        ),
        title=_("Add people by service number"),
        intro=_("Census, reasonable suspicion, post-incident, return to duty, follow-up."),
    )


@require_POST
def session_state(request, pk: int):
    user = request.user
    session = _managed_session(request, pk)
    state = request.POST.get("state", "")
    if state not in SESSION_MOVES[session.state]:
        messages.error(request, _("A session cannot be moved to that state from here."))
        return redirect("testing:session", pk=session.pk)
    services.session_set_state(actor=user, session=session, state=state)
    messages.success(
        request,
        _("The session is now %(state)s.")
        % {"state": CollectionSession.State(state).label.lower()},
    )
    return redirect("testing:session", pk=session.pk)


# --- collection and refusal ----------------------------------------------------------------


def _entry_to_collect(request, pk: int, entry_pk: int):
    """The session, the person on its list, and a redirect back to the list when there is
    nothing to record from them now (``None`` when there is)."""
    session = _session_or_404(request, pk)
    _require(policies.can_collect_in(request.user, session))
    entry = get_object_or_404(
        session.entries.select_related(
            "employment__person", "employment__unit", "employment__rank", "selection"
        ),
        pk=entry_pk,
    )
    done = (
        session.collections.filter(employment_id=entry.employment_id)
        .exclude(state=Collection.State.REJECTED)
        .first()
    )
    return session, entry, _not_now(request, session, done)


def _not_now(request, session, done):
    """Why there is nothing to record (a redirect back to the list), or ``None``."""
    if done is not None:
        messages.info(
            request,
            _("%(state)s already recorded for this person: %(id)s.")
            % {"state": done.get_state_display(), "id": done.specimen_id},
        )
        return redirect("testing:session", pk=session.pk)
    if session.state == CollectionSession.State.CLOSED:
        messages.error(request, _("The session is closed."))
        return redirect("testing:session", pk=session.pk)
    return None


@require_http_methods(["GET", "POST"])
def collect(request, pk: int, entry: int):
    user = request.user
    session, entry, response = _entry_to_collect(request, pk, entry)
    if response is not None:
        return response
    form = forms.CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.collection_record(
                actor=user,
                employment=entry.employment,
                reason=entry.reason,
                collected_at=timezone.now(),
                session=session,
                selection=entry.selection,
                collectors=[user],
                **form.service_arguments(),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Specimen collected. Write or stick the specimen ID on both bottles."),
            )
            return redirect(
                reverse("testing:specimen", args=[collection.specimen_id]) + "?collected=1"
            )
    context = {"session": session, "entry": entry, "form": form}
    return render(request, "testing/collection_form.html", context)


@require_http_methods(["GET", "POST"])
def refuse(request, pk: int, entry: int):
    user = request.user
    session, entry, response = _entry_to_collect(request, pk, entry)
    if response is not None:
        return response
    form = forms.RefusalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = services.collection_refuse(
                actor=user,
                employment=entry.employment,
                reason=entry.reason,
                refusal_reason=form.cleaned_data["refusal_reason"],
                at=timezone.now(),
                remarks=form.cleaned_data["remarks"],
                session=session,
                selection=entry.selection,
                collectors=[user],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.warning(
                request,
                _("Refusal recorded for %(name)s under form number %(id)s.")
                % {"name": entry.employment.person.full_name, "id": collection.specimen_id},
            )
            return redirect("testing:session", pk=session.pk)
    context = {"session": session, "entry": entry, "form": form}
    return render(request, "testing/collection_refuse.html", context)


# --- specimens ------------------------------------------------------------------------------


@require_GET
def specimens(request):
    user = request.user
    _require(_has_any(user, SPECIMEN_PERMISSIONS))
    form = forms.SpecimenSearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    results = selectors.collections_for(user, q=q) if q else selectors.collections_for(user)
    if q:
        exact = results.filter(specimen_id=rules.normalise_specimen_id(q)).first()
        if exact is not None:  # a scanned or fully typed ID goes straight to the specimen
            return redirect("testing:specimen", specimen_id=exact.specimen_id)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    for collection in page.object_list:
        collection.badge = state_display(collection)
    context = {"form": form, "q": q, "page": page}
    return render(request, "testing/specimens.html", context)


def _recordable_events(user, collection) -> list[str]:
    """The custody events ``user`` might record on this specimen (the policy decides for the
    laboratory chosen). The sealing is recorded with the collection itself."""
    if collection.state == Collection.State.REFUSED:
        return []
    labs = policies.laboratory_ids(user)
    events = []
    for event in CustodyEvent.Event.values:
        if event == CustodyEvent.Event.SEALED:
            continue
        as_collector = (
            event in policies.COLLECTOR_EVENTS
            and user.has_perm(policies.COLLECT)
            and policies.can_see_donor(user, collection)
        )
        as_laboratory = event in policies.LABORATORY_EVENTS and (labs is None or bool(labs))
        if user.has_perm(policies.RECORD_CUSTODY) and (as_collector or as_laboratory):
            events.append(event)
    return events


def _custody_laboratories(user, collection):
    """Laboratories to choose from: a collector hands over to any active laboratory;
    laboratory staff record at theirs."""
    labs = policies.laboratory_ids(user)
    qs = Laboratory.objects.filter(active=True)
    if user.has_perm(policies.COLLECT) and policies.can_see_donor(user, collection):
        return qs.order_by("code")
    if labs is None:
        return qs.order_by("code")
    return qs.filter(pk__in=sorted(labs)).order_by("code")


@require_GET
def specimen(request, specimen_id: str):
    user = request.user
    collection = _collection_or_404(request, specimen_id)
    if collection.specimen_id != specimen_id:
        return redirect("testing:specimen", specimen_id=collection.specimen_id)
    show_donor = policies.can_see_donor(user, collection)
    if show_donor:  # personal data: the access log says who looked
        access_record(
            user=user,
            object_type="testing.collection",
            object_id=str(collection.pk),
            purpose="specimen page",
        )
    context = {
        "collection": collection,
        "state": state_display(collection),
        "show_donor": show_donor,
        "employment": collection.employment if show_donor else None,
        "bottles": collection.bottles.order_by("label"),
        "timeline": selectors.custody_timeline(collection),
        "just_collected": request.GET.get("collected") == "1",
        "can_record_custody": bool(_recordable_events(user, collection)),
        "has_bottles": collection.state != Collection.State.REFUSED,
    }
    return render(request, "testing/specimen.html", context)


@require_http_methods(["GET", "POST"])
def custody_add(request, specimen_id: str):
    user = request.user
    collection = _collection_or_404(request, specimen_id)
    events = _recordable_events(user, collection)
    _require(bool(events))
    form = forms.CustodyForm(
        request.POST or None,
        collection=collection,
        events=events,
        laboratories=_custody_laboratories(user, collection),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        args = form.service_arguments()
        if not policies.can_record_custody(
            user, collection, event=args["event"], laboratory=args["laboratory"]
        ):
            form.add_error(
                None,
                _("You may not record this event for this laboratory on this specimen."),
            )
            status = 403
        else:
            try:
                custody = services.custody_record(actor=user, **args)
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                if custody.flaw:
                    messages.error(
                        request,
                        _("The specimen is rejected: %(flaw)s.")
                        % {"flaw": custody.get_flaw_display()},
                    )
                else:
                    messages.success(request, _("The custody event was recorded."))
                return redirect("testing:specimen", specimen_id=collection.specimen_id)
    context = {"collection": collection, "form": form, "state": state_display(collection)}
    return render(request, "testing/custody_add.html", context, status=status)


# --- PDFs -----------------------------------------------------------------------------------


def _pdf_language(request) -> str:
    wanted = request.GET.get("lang", "")
    codes = {code for code, _name in settings.LANGUAGES}
    return wanted if wanted in codes else (translation.get_language() or settings.LANGUAGE_CODE)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
def labels_pdf(request, specimen_id: str):
    collection = _collection_or_404(request, specimen_id)
    if collection.state == Collection.State.REFUSED:
        raise Http404(_("A refusal has no bottles to label."))
    try:
        start = int(request.GET.get("start", "1"))
    except ValueError:
        start = 1
    with translation.override(_pdf_language(request)):
        pdf = documents.labels_pdf(collection, start=start)
    return _pdf_response(pdf, f"{collection.specimen_id}-labels.pdf")


@require_GET
def custody_form_pdf(request, specimen_id: str):
    user = request.user
    collection = _collection_or_404(request, specimen_id)
    copies = [documents.COPY_LABORATORY]
    if policies.can_see_donor(user, collection):
        copies.append(documents.COPY_FILE)
        access_record(
            user=user,
            object_type="testing.collection",
            object_id=str(collection.pk),
            purpose="custody and control form",
        )
    wanted = request.GET.get("copy", "")
    if wanted in copies:
        copies = [wanted]
    with translation.override(_pdf_language(request)):
        pdf = documents.custody_form_pdf(collection, copies=copies)
    return _pdf_response(pdf, f"{collection.specimen_id}-custody-form.pdf")
