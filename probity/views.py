"""Project-level pages that draw on several apps: the home page and the language switch."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST

from probity.accounts.services import user_set_language
from probity.core.i18n import set_language_cookie
from probity.navigation import items_for


def home(request):
    user = request.user
    return render(
        request,
        "home.html",
        {
            "assignments": [] if user.is_superuser else list(user.active_assignments()),
            "reachable": items_for(user),
        },
    )


@login_not_required
@require_POST
def set_language(request):
    """Switch the language, remember it in a cookie and, for a logged-in user, on the account."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        set_language_cookie(response, language)
        if request.user.is_authenticated:
            user_set_language(actor=request.user, user=request.user, language=language)
    return response
