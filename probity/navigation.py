"""Navigation by role: each entry is shown only to users whose roles grant its permission.

Later apps add their entries here; the project module may import every app.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every logged-in user
    description: str = ""


NAV_ITEMS = [
    NavItem(
        _("People"),
        "personnel:people",
        "personnel.view_person",
        _("The personnel registry: people, employment and status"),
    ),
    NavItem(
        _("Roster import"),
        "personnel:import",
        "personnel.import_people",
        _("Import people from a spreadsheet"),
    ),
    NavItem(
        _("Collection sessions"),
        "testing:sessions",
        "testing.collect",
        _("Your sessions: the people to test, collection and refusal"),
    ),
    NavItem(
        _("Specimens"),
        "testing:specimens",
        "testing.record_custody",
        _("Find a specimen by its ID; its chain of custody"),
    ),
    NavItem(
        _("Campaigns"),
        "testing:campaigns",
        "testing.view_campaign",
        _("Testing campaigns, random draws and their progress"),
    ),
    NavItem(
        _("Drug panels"),
        "testing:panels",
        "testing.manage_panels",
        _("What specimens are tested for, and the cutoffs"),
    ),
    NavItem(
        _("Organisation"),
        "org:tree",
        "org.view_unit",
        _("Agencies, units, provinces and districts"),
    ),
    NavItem(
        _("Laboratories"), "org:laboratories", "org.view_laboratory", _("Testing laboratories")
    ),
    NavItem(_("Users"), "accounts:users", "accounts.view_user", _("Users, roles and assignments")),
    NavItem(
        _("API tokens"), "accounts:tokens", "accounts.manage_tokens", _("Tokens for other systems")
    ),
    NavItem(
        _("Audit log"), "audit:log", "audit.view_auditentry", _("Search and verify the audit log")
    ),
]


def items_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    return [
        {"label": item.label, "url": reverse(item.url_name), "description": item.description}
        for item in NAV_ITEMS
        if item.permission is None or user.has_perm(item.permission)
    ]


def navigation(request):
    """Template context: the menu for the current user."""
    user = getattr(request, "user", None)
    return {"nav_items": items_for(user) if user is not None else []}
