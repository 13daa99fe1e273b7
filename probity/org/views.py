"""Organisation pages: thin views that check policy, call a selector or a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from probity.org import forms, policies, selectors, services
from probity.org.models import Agency

SEARCH_PAGE_SIZE = 50


def _visible_unit_or_404(request, code: str):
    """Outside the user's jurisdiction a unit is simply not found: its existence stays hidden."""
    unit = selectors.unit_get(request.user, code)
    if unit is None:
        raise Http404(_("No such unit."))
    return unit


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _form_page(request, form, *, title: str, intro: str = "", cancel_url: str, submit: str):
    return render(
        request,
        "org/form.html",
        {"form": form, "title": title, "intro": intro, "cancel_url": cancel_url, "submit": submit},
    )


def _reference_create(request, *, form, create, done, success, back: str, **page):
    """The create page of a piece of reference data: a valid form goes to ``create`` (a
    service); its errors come back on the form and nothing is written."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, success(obj))
            return redirect(done)
    return _form_page(request, form, cancel_url=reverse(back), **page)


# --- the tree ---------------------------------------------------------------------------


@require_GET
def tree(request):
    user = request.user
    _require(policies.can_browse_units(user))
    search = forms.UnitSearchForm(request.GET or None)
    context = {
        "search": search,
        "can_create_root": policies.can_create_unit(user, None),
        "can_view_laboratories": policies.can_view_laboratories(user),
    }
    context["searching"] = search.is_search()
    if context["searching"]:
        results = selectors.units_for(
            user,
            q=search.cleaned_data["q"],
            province=search.cleaned_data["province"].code
            if search.cleaned_data["province"]
            else "",
        )
        context["page"] = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
    else:
        context["roots"] = list(selectors.unit_roots_for(user))
    return render(request, "org/tree.html", context)


@require_GET
def unit_children(request, code: str):
    """The sub-units of a unit as list items, for htmx to expand the tree lazily."""
    _require(policies.can_browse_units(request.user))
    unit = _visible_unit_or_404(request, code)
    if not request.htmx:
        return redirect(reverse("org:unit", args=[unit.code]) + "#children")
    children = selectors.unit_children(request.user, unit)
    return render(request, "org/tree.html#unit-list", {"units": children})


@require_GET
def unit_detail(request, code: str):
    user = request.user
    _require(policies.can_browse_units(user))
    unit = _visible_unit_or_404(request, code)
    ancestors = list(selectors.unit_ancestors(user, unit))
    parent = ancestors[-1] if ancestors and ancestors[-1].pk == unit.parent_id else None
    context = {
        "unit": unit,
        "ancestors": ancestors,
        "parent": parent,
        "children": selectors.unit_children(user, unit),
        "can_change": policies.can_change_unit(user, unit),
    }
    return render(request, "org/unit_detail.html", context)


@require_http_methods(["GET", "POST"])
def unit_create(request, code: str):
    """A new sub-unit under the unit ``code``."""
    user = request.user
    parent = _visible_unit_or_404(request, code)
    _require(policies.can_create_unit(user, parent))
    form = forms.UnitCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=user, agency=parent.agency, parent=parent, **form.cleaned_data
            )
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("Unit %(code)s created.") % {"code": unit.code})
            return redirect("org:unit", code=unit.code)
    return _form_page(
        request,
        form,
        title=_("New sub-unit of %(name)s") % {"name": parent.name},
        intro=_("The new unit belongs to %(agency)s.") % {"agency": parent.agency.name},
        cancel_url=reverse("org:unit", args=[parent.code]),
        submit=_("Create the unit"),
    )


@require_http_methods(["GET", "POST"])
def unit_create_root(request):
    """The top unit of an agency's tree: installation administrators only."""
    user = request.user
    _require(policies.can_create_unit(user, None))
    form = forms.UnitCreateForm(
        request.POST or None, agency_choices=Agency.objects.order_by("code")
    )
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            forms.add_service_errors(form, exc)
        else:
            messages.success(request, _("Unit %(code)s created.") % {"code": unit.code})
            return redirect("org:unit", code=unit.code)
    return _form_page(
        request,
        form,
        title=_("New top unit of an agency"),
        cancel_url=reverse("org:tree"),
        submit=_("Create the unit"),
    )


@require_http_methods(["GET", "POST"])
def unit_edit(request, code: str):
    user = request.user
    unit = _visible_unit_or_404(request, code)
    _require(policies.can_change_unit(user, unit))
    form = forms.UnitEditForm(
        request.POST or None,
        unit=unit,
        user=user,
        may_be_root=policies.can_create_unit(user, None),
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if "parent" in changes and not policies.can_move_unit(user, unit, changes["parent"]):
            form.add_error("parent", _("You may not move this unit there."))
        elif not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("org:unit", code=unit.code)
        else:
            try:
                services.unit_update(actor=user, unit=unit, **changes)
            except ValidationError as exc:
                forms.add_service_errors(form, exc)
            else:
                messages.success(request, _("Unit %(code)s saved.") % {"code": unit.code})
                return redirect("org:unit", code=unit.code)
    return _form_page(
        request,
        form,
        title=_("Edit %(name)s") % {"name": unit.name},
        intro=_("Code %(code)s, %(agency)s.") % {"code": unit.code, "agency": unit.agency.name},
        cancel_url=reverse("org:unit", args=[unit.code]),
        submit=_("Save"),
    )


# --- reference data ---------------------------------------------------------------------


@require_GET
def laboratories(request):
    user = request.user
    _require(policies.can_view_laboratories(user))
    context = {
        "laboratories": selectors.laboratories_for(user),
        "can_manage": policies.can_manage_laboratories(user),
    }
    return render(request, "org/laboratories.html", context)


@require_http_methods(["GET", "POST"])
def laboratory_create(request):
    _require(policies.can_manage_laboratories(request.user))
    return _reference_create(
        request,
        form=forms.LaboratoryForm(request.POST or None),
        create=services.laboratory_create,
        done="org:laboratories",
        success=lambda lab: _("Laboratory %(code)s created.") % {"code": lab.code},
        back="org:laboratories",
        title=_("New laboratory"),
        submit=_("Create the laboratory"),
    )


@require_GET
def agencies(request):
    user = request.user
    can_manage = policies.can_manage_reference_data(user)
    _require(can_manage or policies.can_browse_units(user))
    agency_list = list(selectors.agencies_for(user, include_all=can_manage))
    ranks: dict[int, list] = {}
    for rank in selectors.ranks_for(user, include_all=can_manage):
        ranks.setdefault(rank.agency_id, []).append(rank)
    for agency in agency_list:
        agency.rank_list = ranks.get(agency.pk, [])
    return render(request, "org/agencies.html", {"agencies": agency_list, "can_manage": can_manage})


@require_http_methods(["GET", "POST"])
def agency_create(request):
    _require(policies.can_manage_reference_data(request.user))
    return _reference_create(
        request,
        form=forms.AgencyForm(request.POST or None),
        create=services.agency_create,
        done="org:agencies",
        success=lambda agency: _("Agency %(code)s created.") % {"code": agency.code},
        back="org:agencies",
        title=_("New agency"),
        intro=_("Then create the agency's top unit from the organisation page."),
        submit=_("Create the agency"),
    )


@require_http_methods(["GET", "POST"])
def rank_create(request):
    _require(policies.can_manage_reference_data(request.user))
    return _reference_create(
        request,
        form=forms.RankForm(request.POST or None, initial={"agency": request.GET.get("agency")}),
        create=services.rank_create,
        done="org:agencies",
        success=lambda rank: _("Rank %(name)s created.") % {"name": rank.name},
        back="org:agencies",
        title=_("New rank"),
        submit=_("Create the rank"),
    )


@require_GET
def provinces(request):
    return render(
        request,
        "org/provinces.html",
        {"provinces": selectors.provinces_with_district_counts()},
    )


@require_GET
def province_detail(request, code: str):
    province = selectors.province_get(code)
    if province is None:
        raise Http404(_("No such province."))
    context = {
        "province": province,
        "districts": selectors.districts_of(province),
        "can_browse_units": policies.can_browse_units(request.user),
    }
    if context["can_browse_units"]:
        context["unit_count"] = selectors.units_for(request.user, province=province.code).count()
    return render(request, "org/province_detail.html", context)
