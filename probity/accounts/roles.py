"""The roles of PRODUCT.md and the Django permissions each one carries.

A role says *what* a user may do; the unit of an assignment says *where*. Jurisdiction is
applied separately by each app's ``policies.py`` as a ``Q`` filter.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("System administrator")
    PROGRAMME_MANAGER = "programme_manager", _("Programme manager")
    COLLECTOR = "collector", _("Collector")
    LAB_ANALYST = "lab_analyst", _("Laboratory analyst")
    LAB_CERTIFIER = "lab_certifier", _("Laboratory certifier")
    MEDICAL_REVIEWER = "medical_reviewer", _("Medical reviewer")
    CASE_OFFICER = "case_officer", _("Case officer")
    COMMITTEE_MEMBER = "committee_member", _("Disciplinary committee member")
    COMMANDER = "commander", _("Commander")
    PERSONNEL_OFFICER = "personnel_officer", _("Personnel officer")
    REHAB_STAFF = "rehab_staff", _("Rehabilitation centre staff")
    INVESTIGATOR = "investigator", _("Investigator")
    ANALYST = "analyst", _("Analyst")
    AUDITOR = "auditor", _("Auditor")


# Roles that must use two-factor authentication where it is enforced (production).
TWO_FACTOR_ROLES = frozenset(
    {Role.ADMINISTRATOR, Role.MEDICAL_REVIEWER, Role.COMMITTEE_MEMBER, Role.AUDITOR}
)

_BROWSE_ORG = {"org.view_unit", "org.view_agency", "org.view_laboratory"}
_SEE_PEOPLE = {"personnel.view_person"}
_KEEP_ROSTER = {
    "personnel.view_person",
    "personnel.change_person",
    "personnel.import_people",
    "personnel.record_status",
}

# Testing (part 1). Draws and selections are for the programme and its auditors: commanders
# get none of these, so nobody in the line of command learns who was drawn before collection.
_VIEW_CAMPAIGNS = {"testing.view_campaign"}
_RUN_CAMPAIGNS = {
    "testing.view_campaign",
    "testing.view_draw",
    "testing.manage_campaign",
    "testing.run_draw",
}
_COLLECT = {"testing.view_campaign", "testing.collect", "testing.record_custody"}
_LAB_CUSTODY = {"testing.record_custody", "testing.receive_specimen"}

# role -> "app_label.codename". Later apps add their own permissions here.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMINISTRATOR: frozenset(
        _BROWSE_ORG
        | _KEEP_ROSTER
        | {
            "accounts.view_user",
            "accounts.manage_users",
            "accounts.manage_tokens",
            "org.change_unit",
            "org.change_agency",
            "org.change_laboratory",
            "testing.manage_panels",
            "testing.manage_lab_staff",
        }
    ),
    Role.PROGRAMME_MANAGER: frozenset(
        _BROWSE_ORG | _SEE_PEOPLE | _RUN_CAMPAIGNS | {"testing.view_collection"}
    ),
    Role.COLLECTOR: frozenset({"org.view_unit", "org.view_laboratory"} | _SEE_PEOPLE | _COLLECT),
    Role.LAB_ANALYST: frozenset({"org.view_laboratory"} | _LAB_CUSTODY),
    Role.LAB_CERTIFIER: frozenset({"org.view_laboratory"} | _LAB_CUSTODY),
    Role.MEDICAL_REVIEWER: frozenset({"org.view_unit", "org.view_laboratory"} | _SEE_PEOPLE),
    Role.CASE_OFFICER: frozenset(_BROWSE_ORG | _SEE_PEOPLE),
    Role.COMMITTEE_MEMBER: frozenset(_BROWSE_ORG | _SEE_PEOPLE),
    Role.COMMANDER: frozenset(_BROWSE_ORG | _SEE_PEOPLE),
    Role.PERSONNEL_OFFICER: frozenset(_BROWSE_ORG | _KEEP_ROSTER),
    Role.REHAB_STAFF: frozenset({"org.view_unit"}),
    Role.INVESTIGATOR: frozenset(_BROWSE_ORG | _SEE_PEOPLE),
    Role.ANALYST: frozenset(_BROWSE_ORG),
    Role.AUDITOR: frozenset(
        _BROWSE_ORG
        | _SEE_PEOPLE
        | _VIEW_CAMPAIGNS
        | {
            "audit.view_auditentry",
            "accounts.view_user",
            "testing.view_draw",
            "testing.view_collection",
        }
    ),
}


def permissions_for_roles(roles) -> set[str]:
    perms: set[str] = set()
    for role in roles:
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return perms


def roles_with_permission(perm: str) -> set[str]:
    return {role for role, perms in ROLE_PERMISSIONS.items() if perm in perms}
