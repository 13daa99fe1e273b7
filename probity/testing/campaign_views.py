"""The programme's pages: drug panels, campaigns, random draws and laboratory staff.

Thin views that check policy, call a selector or a service, render. A role without the
permission at all is refused (403); a campaign or draw outside the user's scope is simply
not found (404). Every write goes through ``services``; their ``ValidationError`` comes back
as form errors (or a message, for the one-button actions) and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from probity.audit.services import access_record
from probity.org.models import Unit
from probity.testing import campaign_forms as forms
from probity.testing import policies, rules, selectors, services
from probity.testing.models import (
    Campaign,
    Collection,
    Draw,
    LaboratoryStaff,
    Panel,
    PanelVersion,
    Selection,
)

PAGE_SIZE = 50
SELECTION_PAGE_SIZE = 100

STATE_BADGES = {
    Campaign.State.DRAFT: "text-bg-secondary",
    Campaign.State.ACTIVE: "text-bg-success",
    Campaign.State.COMPLETE: "text-bg-primary",
    Campaign.State.CANCELLED: "text-bg-dark",
}

#: What each check of ``selectors.draw_verify`` establishes, in the reader's language.
CHECK_LABELS = {
    "drawn": (
        gettext_lazy("Draw made"),
        gettext_lazy("The draw has not taken place yet: there is nothing to verify."),
    ),
    "seed": (
        gettext_lazy("Seed commitment"),
        gettext_lazy("The revealed seed matches the commitment published before the draw."),
    ),
    "commitment_logged": (
        gettext_lazy("Commitment in the audit log"),
        gettext_lazy("The commitment is the one written in the audit log before the draw."),
    ),
    "pool": (
        gettext_lazy("Frozen pool"),
        gettext_lazy("The frozen pool matches its digest."),
    ),
    "pool_logged": (
        gettext_lazy("Pool in the audit log"),
        gettext_lazy("The pool's digest and size are those written in the audit log at the draw."),
    ),
    "parameters": (
        gettext_lazy("Size and kind of draw"),
        gettext_lazy(
            "The sample size, alternates and kind of draw are those committed before the draw "
            "(a rate gives pool × rate / 100, rounded half up, at least 1)."
        ),
    ),
    "selection": (
        gettext_lazy("Selection re-run"),
        gettext_lazy("Re-running the draw gives the same people in the same order."),
    ),
    "selection_logged": (
        gettext_lazy("Selection in the audit log"),
        gettext_lazy("The selection's digest is the one written in the audit log at the draw."),
    ),
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _has(user, perm: str) -> bool:
    return user.is_authenticated and user.has_perm(perm)


def _posted(request):
    """The form data of a POST (even an empty one, which must still be validated)."""
    return request.POST if request.method == "POST" else None


def _form_page(request, template: str, form, **context):
    return render(request, template, {"form": form, **context})


def _error_message(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def state_badge(campaign: Campaign) -> dict:
    return {
        "label": campaign.get_state_display(),
        "css": STATE_BADGES.get(campaign.state, "text-bg-secondary"),
    }


# --- panels ---------------------------------------------------------------------------------


def _in_force(versions: list[PanelVersion]) -> PanelVersion | None:
    """The version in force today among ``versions`` (else the earliest to come)."""
    today = timezone.localdate()
    current = [v for v in versions if v.effective_from <= today]
    if current:
        return max(current, key=lambda v: (v.effective_from, v.version))
    return min(versions, key=lambda v: (v.effective_from, v.version)) if versions else None


def _panel_or_404(pk: int) -> Panel:
    panel = Panel.objects.select_related("specimen_type").filter(pk=pk).first()
    if panel is None:
        raise Http404(_("No such panel."))
    return panel


def _version_view(version: PanelVersion) -> dict:
    definition = version.definition if isinstance(version.definition, dict) else {}
    validity = definition.get("validity") or {}
    return {
        "version": version,
        "unit": definition.get("unit", ""),
        "groups": definition.get("groups") or [],
        "requires": definition.get("requires") or [],
        "validity": [
            {"key": key, "label": forms.VALIDITY_LABELS.get(key, key), "value": value}
            for key, value in sorted(
                validity.items(),
                key=lambda kv: (
                    forms.VALIDITY_ORDER.index(kv[0]) if kv[0] in forms.VALIDITY_ORDER else 99
                ),
            )
        ],
    }


@require_GET
def panels(request):
    user = request.user
    _require(policies.can_view_panels(user))
    rows = []
    for panel in selectors.panels():
        versions = list(panel.versions.all())
        rows.append(
            {
                "panel": panel,
                "current": _in_force(versions),
                "count": len(versions),
                "agencies": list(panel.agencies.all()),
            }
        )
    return render(
        request,
        "testing/panels.html",
        {"rows": rows, "can_manage": policies.can_manage_panels(user)},
    )


@require_GET
def panel(request, pk: int):
    user = request.user
    _require(policies.can_view_panels(user))
    the_panel = _panel_or_404(pk)
    versions = list(the_panel.versions.select_related("created_by").order_by("-version"))
    current = _in_force(versions)
    context = {
        "panel": the_panel,
        "versions": [_version_view(v) for v in versions],
        "current": current,
        "today": timezone.localdate(),
        "agencies": list(the_panel.agencies.order_by("code")),
        "can_manage": policies.can_manage_panels(user),
    }
    return render(request, "testing/panel.html", context)


def _default_definition() -> dict:
    default = Panel.objects.filter(is_default=True).first()
    if default is not None:
        versions = list(default.versions.all())
        current = _in_force(versions)
        if current is not None and isinstance(current.definition, dict):
            return current.definition
    return rules.HHS_2025_URINE


@require_http_methods(["GET", "POST"])
def panel_add(request):
    user = request.user
    _require(policies.can_manage_panels(user))
    base = _default_definition()
    form = forms.PanelCreateForm(
        _posted(request),
        base_definition=base,
        initial={
            **forms.definition_as_text(base),
            "effective_from": timezone.localdate(),
            "specimen_type": "urine",
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.panel_create(
                actor=user,
                code=data["code"],
                name_en=data["name_en"],
                name_km=data["name_km"],
                specimen_type=data["specimen_type"],
                definition=form.definition(),
                effective_from=data["effective_from"],
                source=data["source"],
                is_default=data["is_default"],
                agencies=list(data["agencies"]),
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("Panel %(code)s was added.") % {"code": created.code})
            return redirect("testing:panel", pk=created.pk)
    return _form_page(
        request,
        "testing/panel_form.html",
        form,
        title=_("Add a drug panel"),
        intro=_(
            "The definition below starts from the default panel: change the lines you need. "
            "A panel is never edited once saved; later changes are new versions."
        ),
        submit=_("Add the panel"),
        cancel_url=reverse("testing:panels"),
    )


@require_http_methods(["GET", "POST"])
def panel_version_add(request, pk: int):
    user = request.user
    _require(policies.can_manage_panels(user))
    the_panel = _panel_or_404(pk)
    versions = list(the_panel.versions.order_by("-version"))
    base = versions[0].definition if versions else rules.HHS_2025_URINE
    base = base if isinstance(base, dict) else rules.HHS_2025_URINE
    form = forms.PanelVersionForm(
        _posted(request),
        base_definition=base,
        initial={**forms.definition_as_text(base), "effective_from": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = services.panel_version_add(
                actor=user,
                panel=the_panel,
                definition=form.definition(),
                effective_from=data["effective_from"],
                source=data["source"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Version %(version)s of %(code)s was added, in force from %(date)s.")
                % {
                    "version": version.version,
                    "code": the_panel.code,
                    "date": version.effective_from.isoformat(),
                },
            )
            return redirect("testing:panel", pk=the_panel.pk)
    return _form_page(
        request,
        "testing/panel_form.html",
        form,
        panel=the_panel,
        title=_("New version of %(code)s") % {"code": the_panel.code},
        intro=_(
            "Filled in from the latest version. Collections keep the version in force on "
            "the day they were made."
        ),
        submit=_("Add the version"),
        cancel_url=reverse("testing:panel", args=[the_panel.pk]),
    )


@require_http_methods(["GET", "POST"])
def panel_assign(request, pk: int):
    user = request.user
    _require(policies.can_manage_panels(user))
    the_panel = _panel_or_404(pk)
    initial = {
        "agencies": list(the_panel.agencies.values_list("code", flat=True)),
        "is_default": the_panel.is_default,
    }
    form = forms.PanelAssignForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.panel_assign(
                actor=user,
                panel=the_panel,
                agencies=list(form.cleaned_data["agencies"]),
                is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("The use of %(code)s was saved.") % {"code": the_panel.code}
            )
            return redirect("testing:panel", pk=the_panel.pk)
    return _form_page(
        request,
        "testing/panel_assign.html",
        form,
        panel=the_panel,
        title=_("Who uses %(code)s") % {"code": the_panel.code},
        submit=_("Save"),
        cancel_url=reverse("testing:panel", args=[the_panel.pk]),
    )


# --- campaigns ------------------------------------------------------------------------------


def _campaign_or_404(request, pk: int) -> Campaign:
    user = request.user
    _require(_has(user, policies.VIEW_CAMPAIGN))
    campaign = (
        selectors.campaigns_for(user)
        .select_related("panel", "created_by", "depends_on")
        .filter(pk=pk)
        .first()
    )
    if campaign is None:
        raise Http404(_("No such campaign."))
    return campaign


def _managed_campaign_or_404(request, pk: int) -> Campaign:
    campaign = _campaign_or_404(request, pk)
    _require(policies.can_manage_campaign(request.user, campaign))
    return campaign


def _query(request, *, without=("page",)) -> str:
    query = request.GET.copy()
    for name in without:
        query.pop(name, None)
    return query.urlencode()


@require_GET
def campaigns(request):
    user = request.user
    _require(_has(user, policies.VIEW_CAMPAIGN))
    form = forms.CampaignFilterForm(request.GET)
    if form.is_valid():
        qs = selectors.campaigns_for(
            user, state=form.cleaned_data["state"], q=form.cleaned_data["q"]
        )
    else:
        qs = selectors.campaigns_for(user).none()
    page = Paginator(qs.order_by("-starts_on", "code"), PAGE_SIZE).get_page(request.GET.get("page"))
    for campaign in page.object_list:
        campaign.badge = state_badge(campaign)
    context = {
        "form": form,
        "page": page,
        "query": _query(request),
        "filtered": bool(request.GET.get("q") or request.GET.get("state")),
        "can_add": forms.units_where_user_may_organise(user).exists(),
    }
    return render(request, "testing/campaigns.html", context)


def _unit_names(codes) -> dict[str, str]:
    return {
        u.code: u.name
        for u in Unit.objects.filter(code__in=list(codes)).only("code", "name_en", "name_km")
    }


def _progress_context(campaign: Campaign) -> dict:
    progress = selectors.campaign_progress(campaign)
    names = _unit_names(row["unit"] for row in progress.by_unit)
    for row in progress.by_unit:
        row["name"] = names.get(row["unit"], "")
        row["tested"] = row["collected"] + row["refused"] + row["rejected"] + row["closed_screen"]
        row["coverage"] = round(100 * row["tested"] / row["eligible"], 1) if row["eligible"] else 0
    return {
        "campaign": campaign,
        "progress": progress,
        "coverage_bar": min(100, progress.coverage_percent),
        "target_reached": progress.coverage_percent >= progress.target_percent,
        "updated_at": timezone.localtime(),
        "poll": campaign.state == Campaign.State.ACTIVE,
    }


@require_GET
def campaign(request, pk: int):
    user = request.user
    the_campaign = _campaign_or_404(request, pk)
    can_manage = policies.can_manage_campaign(user, the_campaign)
    can_view_draws = policies.can_view_draws(user, the_campaign)
    can_run_draw = policies.can_run_draw(user, the_campaign)
    draws = []
    if can_view_draws:
        draws = list(
            selectors.draws_for(user, the_campaign)
            .select_related("committed_by", "drawn_by")
            .annotate(
                n_selected=Count("selections", filter=Q(selections__kind=Selection.Kind.SELECTED)),
                n_alternates=Count(
                    "selections", filter=Q(selections__kind=Selection.Kind.ALTERNATE)
                ),
                n_excused=Count("selections", filter=Q(selections__excused=True)),
            )
        )
    waiting = any(d.state == Draw.State.COMMITTED for d in draws)
    is_draft = the_campaign.state == Campaign.State.DRAFT
    is_active = the_campaign.state == Campaign.State.ACTIVE
    panel_in_use = the_campaign.panel or selectors.panel_for_agency(the_campaign.agency)
    context = {
        "campaign": the_campaign,
        "badge": state_badge(the_campaign),
        "scope_units": list(the_campaign.scope_units.order_by("code")),
        "provinces": list(the_campaign.provinces.order_by("code")),
        "panel_in_use": panel_in_use,
        "draws": draws,
        "can_manage": can_manage,
        "can_view_draws": can_view_draws,
        "can_edit": can_manage and is_draft,
        "can_start": can_manage and is_draft,
        "start_error": services.campaign_start_error(the_campaign) if is_draft else None,
        "can_complete": can_manage and is_active,
        "can_cancel": can_manage and (is_draft or is_active),
        "can_commit": (
            can_run_draw and is_active and the_campaign.mode == Campaign.Mode.RANDOM and not waiting
        ),
        "waiting_draw": next((d for d in draws if d.state == Draw.State.COMMITTED), None),
        **_progress_context(the_campaign),
    }
    return render(request, "testing/campaign.html", context)


@require_GET
def campaign_progress(request, pk: int):
    """The progress section alone, for htmx to refresh; without htmx, the campaign page."""
    the_campaign = _campaign_or_404(request, pk)
    if not request.htmx:
        return redirect(reverse("testing:campaign", args=[the_campaign.pk]) + "#progress")
    response = render(request, "testing/campaign.html#progress", _progress_context(the_campaign))
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_http_methods(["GET", "POST"])
def campaign_add(request):
    user = request.user
    _require(_has(user, policies.MANAGE_CAMPAIGN))
    form = forms.CampaignForm(_posted(request), user=user)
    if not form.fields["unit"].queryset.exists():
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        values = form.values()
        _require(policies.can_create_campaign_in(user, values["unit"]))
        try:
            created = services.campaign_create(actor=user, **values)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Campaign %(code)s was created as a draft.") % {"code": created.code}
            )
            return redirect("testing:campaign", pk=created.pk)
    return _form_page(
        request,
        "testing/campaign_form.html",
        form,
        title=_("New campaign"),
        intro=_("The campaign is saved as a draft; it can be changed until it starts."),
        submit=_("Create the campaign"),
        cancel_url=reverse("testing:campaigns"),
    )


@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk: int):
    user = request.user
    the_campaign = _managed_campaign_or_404(request, pk)
    if the_campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("Only a draft campaign can be changed; this one has started."))
        return redirect("testing:campaign", pk=the_campaign.pk)
    form = forms.CampaignForm(_posted(request), user=user, campaign=the_campaign)
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, _("Nothing was changed."))
            return redirect("testing:campaign", pk=the_campaign.pk)
        values = form.values()
        if values["unit"].pk != the_campaign.unit_id:
            _require(policies.can_create_campaign_in(user, values["unit"]))
        try:
            services.campaign_update(actor=user, campaign=the_campaign, **values)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("The campaign was saved."))
            return redirect("testing:campaign", pk=the_campaign.pk)
    return _form_page(
        request,
        "testing/campaign_form.html",
        form,
        campaign=the_campaign,
        title=_("Change campaign %(code)s") % {"code": the_campaign.code},
        submit=_("Save"),
        cancel_url=reverse("testing:campaign", args=[the_campaign.pk]),
    )


def _campaign_action(request, pk: int, service, success: str):
    the_campaign = _managed_campaign_or_404(request, pk)
    try:
        service(actor=request.user, campaign=the_campaign)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, success % {"code": the_campaign.code})
    return redirect("testing:campaign", pk=the_campaign.pk)


@require_POST
def campaign_start(request, pk: int):
    return _campaign_action(
        request, pk, services.campaign_start, _("Campaign %(code)s has started.")
    )


@require_POST
def campaign_complete(request, pk: int):
    return _campaign_action(
        request, pk, services.campaign_complete, _("Campaign %(code)s is complete.")
    )


@require_http_methods(["GET", "POST"])
def campaign_cancel(request, pk: int):
    user = request.user
    the_campaign = _managed_campaign_or_404(request, pk)
    form = forms.CampaignCancelForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_cancel(
                actor=user, campaign=the_campaign, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Campaign %(code)s was cancelled.") % {"code": the_campaign.code}
            )
            return redirect("testing:campaign", pk=the_campaign.pk)
    return _form_page(
        request,
        "testing/campaign_cancel.html",
        form,
        campaign=the_campaign,
        title=_("Cancel campaign %(code)s") % {"code": the_campaign.code},
        submit=_("Cancel the campaign"),
        cancel_url=reverse("testing:campaign", args=[the_campaign.pk]),
    )


# --- draws ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def draw_commit(request, pk: int):
    user = request.user
    the_campaign = _campaign_or_404(request, pk)
    _require(policies.can_run_draw(user, the_campaign))
    form = forms.DrawCommitForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draw = services.draw_commit(
                actor=user,
                campaign=the_campaign,
                seed=data["seed"],
                rate_percent=data["rate_percent"],
                sample_size=data["sample_size"],
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The seed of draw %(number)s is committed. Publish its hash now; the seed "
                    "is revealed when the draw is made."
                )
                % {"number": draw.number},
            )
            return redirect("testing:draw", pk=draw.pk)
    return _form_page(
        request,
        "testing/draw_commit.html",
        form,
        campaign=the_campaign,
        title=_("Commit a seed for the next draw of %(code)s") % {"code": the_campaign.code},
        submit=_("Commit the seed"),
        cancel_url=reverse("testing:campaign", args=[the_campaign.pk]),
    )


def _draw_or_404(request, pk: int) -> Draw:
    user = request.user
    _require(_has(user, policies.VIEW_DRAW))
    draw = selectors.draw_get(user, pk)
    if draw is None or not policies.can_view_draws(user, draw.campaign):
        raise Http404(_("No such draw."))
    return draw


def _draw_context(request, draw: Draw, *, excuse_error: dict | None = None) -> dict:
    user = request.user
    drawn = draw.state == Draw.State.DRAWN
    context = {
        "draw": draw,
        "campaign": draw.campaign,
        "drawn": drawn,
        "can_run": policies.can_run_draw(user, draw.campaign),
        "excuse_error": excuse_error or {},
    }
    if not drawn:
        return context
    base = selectors.draw_selections(draw).select_related("replaces__employment")
    selected_page = Paginator(base.filter(kind=Selection.Kind.SELECTED), SELECTION_PAGE_SIZE)
    alternates_page = Paginator(base.filter(kind=Selection.Kind.ALTERNATE), SELECTION_PAGE_SIZE)
    selected = selected_page.get_page(request.GET.get("page"))
    alternates = alternates_page.get_page(request.GET.get("apage"))
    replacements = {
        s.replaces_id: s for s in base.filter(kind=Selection.Kind.ALTERNATE, replaces__isnull=False)
    }
    excused = list(base.filter(excused=True))
    shown = [s.pk for s in selected.object_list] + [s.pk for s in alternates.object_list]
    tested = set(
        Collection.objects.filter(selection_id__in=shown).values_list("selection_id", flat=True)
    )
    for s in [*selected.object_list, *alternates.object_list, *excused]:
        s.tested = s.pk in tested
        s.replacement = replacements.get(s.pk)
        s.can_excuse = context["can_run"] and s.to_test and not s.tested
    context.update(
        {
            "selected": selected,
            "alternates": alternates,
            "excused": excused,
            "query": _query(request, without=("page",)),
            "aquery": _query(request, without=("apage",)),
        }
    )
    return context


@require_GET
def draw(request, pk: int):
    the_draw = _draw_or_404(request, pk)
    if the_draw.state == Draw.State.DRAWN:
        access_record(
            user=request.user, object_type="testing.draw", object_id=the_draw.pk, purpose="draw"
        )
    return render(request, "testing/draw.html", _draw_context(request, the_draw))


@require_POST
def draw_perform(request, pk: int):
    the_draw = _draw_or_404(request, pk)
    _require(policies.can_run_draw(request.user, the_draw.campaign))
    try:
        done = services.draw_perform(actor=request.user, draw=the_draw)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(
            request,
            _(
                "Draw %(number)s was made: %(selected)s selected and %(alternates)s alternates "
                "from a pool of %(pool)s."
            )
            % {
                "number": done.number,
                "selected": done.selections.filter(kind=Selection.Kind.SELECTED).count(),
                "alternates": done.selections.filter(kind=Selection.Kind.ALTERNATE).count(),
                "pool": done.pool_size,
            },
        )
    return redirect("testing:draw", pk=the_draw.pk)


@require_GET
def draw_verify(request, pk: int):
    the_draw = _draw_or_404(request, pk)
    verification = selectors.draw_verify(the_draw)
    checks = []
    for key, passed, detail in verification.checks:
        title, explanation = CHECK_LABELS.get(key, (key.replace("_", " ").capitalize(), detail))
        checks.append(
            {
                "key": key,
                "title": title,
                "explanation": explanation,
                "passed": passed,
                # A failure to read the pool says what is wrong with it.
                "detail": detail if not passed and key == "pool" else "",
            }
        )
    context = {
        "draw": the_draw,
        "campaign": the_draw.campaign,
        "verification": verification,
        "checks": checks,
        "command": f"python manage.py verify_draw {the_draw.pk}",
    }
    return render(request, "testing/draw_verify.html", context)


@require_GET
def draw_pool(request, pk: int):
    """The frozen pool as the canonical text the draw was made from, for an outside
    verifier: one line per person, employment id, service number, unit."""
    the_draw = _draw_or_404(request, pk)
    if the_draw.state != Draw.State.DRAWN:
        raise Http404(_("The pool is frozen only when the draw is made."))
    access_record(
        user=request.user,
        object_type="testing.draw",
        object_id=the_draw.pk,
        purpose="pool download",
    )
    response = HttpResponse(selectors.pool_of(the_draw), content_type="text/plain; charset=utf-8")
    filename = f"pool-{the_draw.campaign.code}-{the_draw.number}.txt"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Pool-Digest"] = the_draw.pool_digest
    return response


@require_POST
def selection_excuse(request, pk: int):
    user = request.user
    _require(_has(user, policies.VIEW_DRAW))
    selection = Selection.objects.select_related("employment").filter(pk=pk).first()
    if selection is None:
        raise Http404(_("No such selection."))
    the_draw = _draw_or_404(request, selection.draw_id)
    _require(policies.can_run_draw(user, the_draw.campaign))
    form = forms.ExcuseForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["reason"])
        alternate = services.selection_excuse(
            actor=user, selection=selection, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        error = {
            "pk": selection.pk,
            "message": _error_message(exc),
            "reason": request.POST.get("reason", "")[:2000],
        }
        return render(
            request, "testing/draw.html", _draw_context(request, the_draw, excuse_error=error)
        )
    number = selection.employment.service_number
    if alternate is not None:
        messages.success(
            request,
            _("%(number)s is excused; alternate %(alternate)s is called in.")
            % {"number": number, "alternate": alternate.employment.service_number},
        )
    else:
        messages.warning(
            request,
            _("%(number)s is excused; no alternate is left to call in.") % {"number": number},
        )
    return redirect(reverse("testing:draw", args=[the_draw.pk]) + "#excused")


# --- laboratory staff -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def lab_staff(request):
    user = request.user
    _require(policies.can_manage_lab_staff(user))
    form = forms.LabStaffForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        person, laboratory = form.cleaned_data["user"], form.cleaned_data["laboratory"]
        if LaboratoryStaff.objects.filter(user=person, laboratory=laboratory).exists():
            form.add_error(
                "user",
                _("%(user)s already works for %(lab)s.")
                % {"user": person.username, "lab": laboratory.code},
            )
        else:
            try:
                services.lab_staff_add(actor=user, user=person, laboratory=laboratory)
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(user)s now works for %(lab)s.")
                    % {"user": person.username, "lab": laboratory.code},
                )
                return redirect("testing:lab_staff")
    posts = LaboratoryStaff.objects.select_related("user", "laboratory", "added_by").order_by(
        "laboratory__code", "user__username"
    )
    return render(request, "testing/lab_staff.html", {"form": form, "posts": posts})


@require_POST
def lab_staff_remove(request, pk: int):
    user = request.user
    _require(policies.can_manage_lab_staff(user))
    post = LaboratoryStaff.objects.select_related("user", "laboratory").filter(pk=pk).first()
    if post is None:
        raise Http404(_("No such laboratory post."))
    label = {"user": post.user.username, "lab": post.laboratory.code}
    try:
        services.lab_staff_remove(actor=user, post=post)
    except ValidationError as exc:
        messages.error(request, _error_message(exc))
    else:
        messages.success(request, _("%(user)s no longer works for %(lab)s.") % label)
    return redirect("testing:lab_staff")
