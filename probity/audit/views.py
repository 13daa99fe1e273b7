"""The auditor's pages: the audit log, one entry, chain verification and the access log.

Thin: check the policy, parse the form, call a selector, render.
"""

import json

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from probity.audit import chain, selectors
from probity.audit.forms import AccessSearchForm, AuditSearchForm, VerifyForm
from probity.audit.policies import can_view_access_log, can_view_audit
from probity.audit.services import access_record

PER_PAGE = 50


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _page(request, queryset):
    return Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _head_context() -> dict:
    count, head_hash = selectors.audit_head()
    return {
        "head_count": count,
        "head_hash": head_hash,
        "head": chain.format_head(count, head_hash),
    }


@require_GET
def log(request):
    _require(can_view_audit(request.user))
    form = AuditSearchForm(request.GET or None)
    if not form.is_bound:
        entries = selectors.audit_search()
    elif form.is_valid():
        entries = selectors.audit_search(**form.filters())
    else:
        entries = selectors.audit_search().none()
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "page": _page(request, entries),
            "query": _query_without_page(request),
            "verify_form": VerifyForm(),
            **_head_context(),
        },
    )


def _pretty(value) -> str | None:
    if value is None:
        return None
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@require_GET
def entry(request, seq: int):
    _require(can_view_audit(request.user))
    found = selectors.audit_entry(seq)
    if found is None:
        raise Http404
    # Before and after values may hold personal data: the access log says who read them.
    access_record(
        user=request.user, object_type="audit.auditentry", object_id=seq, purpose="audit entry"
    )
    return render(
        request,
        "audit/entry.html",
        {
            "entry": found,
            "before": _pretty(found.before),
            "after": _pretty(found.after),
            "hash_matches": selectors.entry_hash_matches(found),
            "previous_seq": seq - 1 if seq > 1 and selectors.audit_entry(seq - 1) else None,
            "next_seq": seq + 1 if selectors.audit_entry(seq + 1) else None,
        },
    )


@require_http_methods(["GET", "POST"])
def verify(request):
    """GET: the form; POST: walk the chain and show the result (only the result for htmx)."""
    _require(can_view_audit(request.user))
    report = None
    if request.method == "POST":
        form = VerifyForm(request.POST)
        if form.is_valid():
            report = selectors.verify_chain(expect_head=form.cleaned_data["expect_head"])
    else:
        form = VerifyForm()
    context = {"verify_form": form, "report": report, **_head_context()}
    if request.method == "POST" and getattr(request, "htmx", False):
        return render(request, "audit/verify.html#verify-result", context)
    return render(request, "audit/verify.html", context)


@require_GET
def access_log(request):
    _require(can_view_access_log(request.user))
    form = AccessSearchForm(request.GET or None)
    if not form.is_bound:
        entries = selectors.access_search()
    elif form.is_valid():
        entries = selectors.access_search(**form.filters())
    else:
        entries = selectors.access_search().none()
    return render(
        request,
        "audit/access_log.html",
        {"form": form, "page": _page(request, entries), "query": _query_without_page(request)},
    )
