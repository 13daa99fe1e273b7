"""Personnel pages: thin views that check policy, call a selector or a service, render.

Outside the user's jurisdiction a person is simply not found (404); a role without the
permission at all is refused (403).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from probity.audit.services import access_record, audit_record
from probity.org import selectors as org_selectors
from probity.personnel import exports, forms, policies, selectors, services
from probity.personnel.models import EmploymentEvent, Status

PAGE_SIZE = 50

VIEW = "personnel.view_person"

# The fields an employment event may name, as the person's page shows them.
FIELD_LABELS = {
    "unit": gettext_lazy("Unit"),
    "rank": gettext_lazy("Rank"),
    "position": gettext_lazy("Position"),
    "family_name": gettext_lazy("Family name"),
    "given_name": gettext_lazy("Given name"),
    "name_km": gettext_lazy("Name in Khmer"),
    "sex": gettext_lazy("Sex"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "national_id": gettext_lazy("National ID"),
}

# Column headers of the list: (sort key, label).
COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("service_number", gettext_lazy("Service number")),
    ("unit", gettext_lazy("Unit")),
    ("rank", gettext_lazy("Rank")),
    ("status", gettext_lazy("Status")),
]


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _require_view(user) -> None:
    _require(user.is_authenticated and user.has_perm(VIEW))


def _visible_employment_or_404(request, pk: int):
    _require_view(request.user)
    employment = selectors.employment_get(request.user, pk)
    if employment is None:
        raise Http404(_("No such person."))
    return employment


def _status_labels() -> dict:
    return dict(Status.choices)


STATUS_BADGES = {
    Status.ACTIVE: "text-bg-success",
    Status.SUSPENDED: "text-bg-warning",
    Status.REMOVED: "text-bg-warning",
    Status.DEMOTED: "text-bg-info",
    Status.DISMISSED: "text-bg-danger",
    Status.RESIGNED: "text-bg-secondary",
    Status.RETIRED: "text-bg-secondary",
    Status.DECEASED: "text-bg-dark",
}


def status_display(value: str | None) -> dict:
    """What a status badge shows: the label, and a colour that is never the only cue."""
    if not value:
        return {"value": "", "label": _("no status yet"), "css": "text-bg-light border"}
    return {
        "value": value,
        "label": _status_labels().get(value, value),
        "css": STATUS_BADGES.get(value, "text-bg-secondary"),
    }


# --- the list and its exports -----------------------------------------------------------


def _filter_form(request):
    return forms.PeopleFilterForm(request.GET, user=request.user)


def _query(request, *, without=("page",)) -> str:
    query = request.GET.copy()
    for name in without:
        query.pop(name, None)
    return query.urlencode()


def _sort_headers(request, current: str) -> list[dict]:
    base = _query(request, without=("page", "sort"))
    headers = []
    for key, label in COLUMNS:
        if current == key:
            direction, next_sort = "ascending", f"-{key}"
        elif current == f"-{key}":
            direction, next_sort = "descending", key
        else:
            direction, next_sort = "", key
        query = f"{base}&sort={next_sort}" if base else f"sort={next_sort}"
        headers.append({"key": key, "label": label, "direction": direction, "query": query})
    return headers


@require_GET
def people(request):
    user = request.user
    _require_view(user)
    form = _filter_form(request)
    valid = form.is_valid()
    if valid:
        employments = selectors.employments_for(user, **form.filters())
        sort = form.cleaned_data["sort"]
    else:  # a bad filter shows its error, never a list that looks filtered but is not
        employments = selectors.employments_for(user).none()
        sort = "name"
    page = Paginator(employments, PAGE_SIZE).get_page(request.GET.get("page"))
    for employment in page.object_list:
        employment.badge = status_display(employment.current_status)
    export_query = _query(request, without=("page",))
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "export_query": export_query,
        "headers": _sort_headers(request, sort),
        "filtered": valid
        and any(form.cleaned_data[name] for name in ("q", "unit", "rank", "status")),
        "can_add": bool(forms.units_where_user_may_add(user).exists()),
        "can_import": policies.can_import(user),
    }
    return render(request, "personnel/people.html", context)


def _export(request, fmt: str):
    user = request.user
    _require_view(user)
    form = _filter_form(request)
    if not form.is_valid():
        query = _query(request)
        return redirect(reverse("personnel:people") + (f"?{query}" if query else ""))
    employments = selectors.employments_for(user, **form.filters())
    count = employments.count()
    # Who exported how many rows with which filters; never the rows themselves.
    audit_record(
        actor=user,
        action="personnel.export",
        object_type="personnel.employment",
        object_repr=f"{count} rows ({fmt})",
        after={"format": fmt, "rows": count, "filters": form.described()},
    )
    if fmt == "csv":
        return exports.csv_response(employments)
    return exports.xlsx_response(employments)


@require_GET
def people_export_csv(request):
    return _export(request, "csv")


@require_GET
def people_export_xlsx(request):
    return _export(request, "xlsx")


# --- a person's page --------------------------------------------------------------------


def _import_batch_url(batch) -> str | None:
    try:
        return reverse("personnel:import_batch", args=[batch.pk])
    except NoReverseMatch:
        return None


def _changes(event) -> list[dict]:
    before, after = event.before or {}, event.after or {}
    names = list(dict.fromkeys([*after, *before]))
    return [
        {
            "label": FIELD_LABELS.get(name, name),
            "before": before.get(name),
            "after": after.get(name),
        }
        for name in names
    ]


@require_GET
def person(request, pk: int):
    user = request.user
    employment = _visible_employment_or_404(request, pk)
    the_person = employment.person
    # Personal data: the access log says who looked.
    access_record(
        user=user, object_type="personnel.person", object_id=the_person.pk, purpose="person page"
    )
    batch_urls: dict[int, str | None] = {}

    def batch_url(batch):
        if batch is None:
            return None
        if batch.pk not in batch_urls:
            batch_urls[batch.pk] = _import_batch_url(batch)
        return batch_urls[batch.pk]

    today = timezone.localdate()
    events = []
    for event in selectors.employment_timeline(employment):
        events.append(
            {
                "event": event,
                "changes": [] if event.kind == EmploymentEvent.Kind.STARTED else _changes(event),
                "started": _changes(event) if event.kind == EmploymentEvent.Kind.STARTED else [],
                "batch_url": batch_url(event.import_batch),
            }
        )
    history = list(selectors.status_history(employment))
    in_force = None
    for change in history:
        if change.effective_date <= today:
            in_force = change
    statuses = [
        {
            "change": change,
            "status": status_display(change.status),
            "current": change is in_force,
            "scheduled": change.effective_date > today,
            "batch_url": batch_url(change.import_batch),
        }
        for change in history
    ]
    others = selectors.employments_for(user).filter(person=the_person).exclude(pk=employment.pk)
    context = {
        "employment": employment,
        "person": the_person,
        "events": events,
        "statuses": statuses,
        "others": others,
        "status": status_display(employment.current_status),
        "employment_batch_url": batch_url(employment.import_batch),
        "can_change": policies.can_change_employment(user, employment),
        "can_record_status": policies.can_record_status(user, employment),
    }
    return render(request, "personnel/person.html", context)


# --- forms ------------------------------------------------------------------------------


def _form_page(request, form, *, title, cancel_url, submit, intro="", employment=None):
    return render(
        request,
        "personnel/form.html",
        {
            "form": form,
            "title": title,
            "intro": intro,
            "cancel_url": cancel_url,
            "submit": submit,
            "employment": employment,
        },
    )


@require_http_methods(["GET", "POST"])
def person_add(request):
    user = request.user
    _require(user.has_perm("personnel.change_person"))
    form = forms.PersonAddForm(request.POST or None, user=user)
    if not form.fields["unit"].queryset.exists():
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = data["unit"]
        _require(policies.can_add_person_in(user, unit))
        try:
            the_person = services.person_create(
                actor=user,
                service_number=data["service_number"],
                unit=unit,
                rank=data["rank"],
                position=data["position"],
                start_date=data["start_date"],
                **form.identity(),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            employment = the_person.employments.get(
                agency_id=unit.agency_id, service_number=data["service_number"]
            )
            messages.success(
                request,
                _("%(name)s was added with service number %(number)s.")
                % {"name": the_person.full_name, "number": employment.service_number},
            )
            return redirect("personnel:person", pk=employment.pk)
    return _form_page(
        request,
        form,
        title=_("Add a person"),
        intro=_("The unit determines the agency; the service number must be new in it."),
        cancel_url=reverse("personnel:people"),
        submit=_("Add the person"),
    )


@require_http_methods(["GET", "POST"])
def person_edit(request, pk: int):
    user = request.user
    employment = _visible_employment_or_404(request, pk)
    _require(policies.can_change_employment(user, employment))
    the_person = employment.person
    form = forms.PersonForm(request.POST or None, initial=forms.PersonForm.initial_for(the_person))
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Nothing was changed."))
            return redirect("personnel:person", pk=employment.pk)
        try:
            services.person_update(actor=user, person=the_person, **form.identity())
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The personal details were saved."))
            return redirect("personnel:person", pk=employment.pk)
    return _form_page(
        request,
        form,
        title=_("Edit the personal details of %(name)s") % {"name": the_person.full_name},
        intro=_("Corrections are kept in the employment timeline."),
        cancel_url=reverse("personnel:person", args=[employment.pk]),
        submit=_("Save"),
        employment=employment,
    )


@require_http_methods(["GET", "POST"])
def employment_change(request, pk: int):
    user = request.user
    employment = _visible_employment_or_404(request, pk)
    _require(policies.can_change_employment(user, employment))
    form = forms.EmploymentChangeForm(request.POST or None, employment=employment, user=user)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("personnel:person", pk=employment.pk)
        if "unit" in changes:
            _require(policies.can_add_person_in(user, changes["unit"]))
        try:
            services.employment_change(
                actor=user,
                employment=employment,
                effective_date=form.cleaned_data["effective_date"],
                reference=form.cleaned_data["reference"],
                **changes,
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The change of employment was recorded."))
            return redirect("personnel:person", pk=employment.pk)
    return _form_page(
        request,
        form,
        title=_("Transfer, rank or position: %(name)s") % {"name": employment.person.full_name},
        intro=_("Each change is kept in the employment timeline with its effective date."),
        cancel_url=reverse("personnel:person", args=[employment.pk]),
        submit=_("Record the change"),
        employment=employment,
    )


@require_http_methods(["GET", "POST"])
def status_record(request, pk: int):
    user = request.user
    employment = _visible_employment_or_404(request, pk)
    _require(policies.can_record_status(user, employment))
    form = forms.StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.status_record(
                actor=user,
                employment=employment,
                status=data["status"],
                effective_date=data["effective_date"],
                reason=data["reason"],
                reference=data["reference"],
                reinstatement=data["reinstatement"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The status change was recorded."))
            return redirect("personnel:person", pk=employment.pk)
    current = status_display(employment.current_status)["label"]
    return _form_page(
        request,
        form,
        title=_("Record a status change: %(name)s") % {"name": employment.person.full_name},
        intro=_("Current status: %(status)s.") % {"status": current},
        cancel_url=reverse("personnel:person", args=[employment.pk]),
        submit=_("Record the status"),
        employment=employment,
    )


# --- a unit's headcount -----------------------------------------------------------------


@require_GET
def unit_headcount(request, code: str):
    """Counts by status for the unit's subtree within the user's scope: an htmx fragment
    for the unit's page, or a page of its own without JavaScript."""
    user = request.user
    _require_view(user)
    unit = org_selectors.unit_get(user, code)
    if unit is None:
        raise Http404(_("No such unit."))
    counts = selectors.headcount_by_status(user, unit)
    rows = [
        {"status": value, "label": label, "count": counts[value]}
        for value, label in Status.choices
        if counts.get(value)
    ]
    context = {
        "unit": unit,
        "rows": rows,
        "total": sum(counts.values()),
        "without_status": counts.get(None, 0),
        "people_url": reverse("personnel:people"),
    }
    template = "personnel/headcount.html"
    if request.htmx:
        template += "#headcount"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
