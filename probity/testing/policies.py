"""Who may do what in testing, and the filters that keep every list within scope.

- Campaigns belong to their organising unit. A programme manager manages those organised in
  their subtree; anyone with ``testing.view_campaign`` also sees campaigns that *cover* their
  area (organised above it), so that a district's collectors see the national round.
- Draws (the names drawn) are seen only by holders of ``testing.view_draw`` over the
  organising unit: programme managers and auditors. Commanders hold no testing permission,
  so nobody in the line of command learns who was drawn before collection.
- Collectors see the sessions of units in their subtree and the collections of their own
  sessions (or that they recorded): never other teams' specimens.
- Laboratory staff see only specimens handed over to or received at their laboratory, by
  specimen ID: they never see who the donor is.
"""

from django.db.models import Q

from probity.accounts.roles import roles_with_permission
from probity.org.policies import NOTHING, jurisdiction_q

VIEW_CAMPAIGN = "testing.view_campaign"
MANAGE_CAMPAIGN = "testing.manage_campaign"
VIEW_DRAW = "testing.view_draw"
RUN_DRAW = "testing.run_draw"
COLLECT = "testing.collect"
VIEW_COLLECTION = "testing.view_collection"
RECORD_CUSTODY = "testing.record_custody"
RECEIVE = "testing.receive_specimen"
MANAGE_PANELS = "testing.manage_panels"
MANAGE_LAB_STAFF = "testing.manage_lab_staff"

#: Events a collector records (at the site and on the way); a laboratory records the rest.
COLLECTOR_EVENTS = frozenset({"sealed", "handed_over"})
LABORATORY_EVENTS = frozenset({"received", "aliquoted", "stored", "disposed", "handed_over"})


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _paths(user, perm: str) -> list[str] | None:
    if not _active(user) or not user.has_perm(perm):
        return []
    return user.unit_paths(*roles_with_permission(perm))


def _within(user, perm: str, unit) -> bool:
    paths = _paths(user, perm)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def _scope(user, perm: str, unit_field: str) -> Q:
    if not _active(user) or not user.has_perm(perm):
        return NOTHING
    return jurisdiction_q(user, roles=roles_with_permission(perm), unit_field=unit_field)


def _ancestor_paths(path: str) -> list[str]:
    """``/1/5/23/`` -> ``["/1/", "/1/5/", "/1/5/23/"]``."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


# --- panels and laboratory staff ------------------------------------------------------------


def can_manage_panels(user) -> bool:
    return _active(user) and user.has_perm(MANAGE_PANELS)


def can_view_panels(user) -> bool:
    """Panels are published rules: anyone working in testing may read them."""
    return _active(user) and any(
        user.has_perm(p) for p in (MANAGE_PANELS, VIEW_CAMPAIGN, RECORD_CUSTODY, VIEW_COLLECTION)
    )


def can_manage_lab_staff(user) -> bool:
    return _active(user) and user.has_perm(MANAGE_LAB_STAFF)


def laboratory_ids(user) -> set[int] | None:
    """The laboratories whose specimens ``user`` handles as laboratory staff; ``None``: all
    (the superuser)."""
    if not _active(user) or not user.has_perm(RECEIVE):
        return set()
    if user.is_superuser:
        return None
    return set(user.laboratory_posts.values_list("laboratory_id", flat=True))


def works_at(user, laboratory) -> bool:
    labs = laboratory_ids(user)
    return labs is None or (laboratory is not None and laboratory.pk in labs)


# --- campaigns and draws --------------------------------------------------------------------


def campaigns_visible_to(user) -> Q:
    """A filter on ``Campaign``: organised within the user's subtrees, or covering them."""
    paths = _paths(user, VIEW_CAMPAIGN)
    if paths is None:
        return Q()
    if not paths:
        return NOTHING
    q = NOTHING
    covering: set[str] = set()
    for path in paths:
        q |= Q(unit__path__startswith=path)
        covering.update(_ancestor_paths(path))
    return q | Q(unit__path__in=sorted(covering))


def can_view_campaign(user, campaign) -> bool:
    paths = _paths(user, VIEW_CAMPAIGN)
    if paths is None:
        return True
    return any(campaign.unit.path.startswith(p) or p.startswith(campaign.unit.path) for p in paths)


def can_create_campaign_in(user, unit) -> bool:
    return _within(user, MANAGE_CAMPAIGN, unit)


def can_manage_campaign(user, campaign) -> bool:
    return _within(user, MANAGE_CAMPAIGN, campaign.unit)


def can_view_draws(user, campaign) -> bool:
    """See who was drawn: the programme that runs the campaign and auditors over it."""
    return _within(user, VIEW_DRAW, campaign.unit)


def can_run_draw(user, campaign) -> bool:
    return _within(user, RUN_DRAW, campaign.unit)


def draws_visible_to(user) -> Q:
    """A filter on ``Draw``."""
    return _scope(user, VIEW_DRAW, "campaign__unit")


# --- sessions and collections ---------------------------------------------------------------


def sessions_visible_to(user) -> Q:
    """A filter on ``CollectionSession``: the unit visited lies in the user's subtree, for
    collectors and for those who oversee collections."""
    return _scope(user, COLLECT, "unit") | _scope(user, VIEW_COLLECTION, "unit")


def can_view_session(user, session) -> bool:
    return _within(user, COLLECT, session.unit) or _within(user, VIEW_COLLECTION, session.unit)


def can_manage_session(user, session) -> bool:
    """Plan the session, change its list, open and close it."""
    return _within(user, COLLECT, session.unit)


def can_create_session_in(user, unit) -> bool:
    return _within(user, COLLECT, unit)


def can_collect_in(user, session) -> bool:
    """Record collections and refusals in a session: a member of its team."""
    if not can_manage_session(user, session):
        return False
    return user.is_superuser or session.team.filter(pk=user.pk).exists()


def can_collect_from(user, employment) -> bool:
    """Record a collection outside a session (the API): the donor is in the collector's
    jurisdiction."""
    return _within(user, COLLECT, employment.unit)


def collections_visible_to(user) -> Q:
    """A filter on ``Collection``. Overseers see every collection in their subtree;
    collectors only their own team's; laboratory staff only what reached their laboratory."""
    q = _scope(user, VIEW_COLLECTION, "unit")
    if _active(user) and user.has_perm(COLLECT):
        if _paths(user, COLLECT) is None:
            return Q()
        own = Q(session__team=user) | Q(recorded_by=user) | Q(collected_by=user)
        q |= own & jurisdiction_q(user, roles=roles_with_permission(COLLECT), unit_field="unit")
    labs = laboratory_ids(user)
    if labs is None:
        return Q()
    if labs:
        q |= Q(bottles__custody__laboratory_id__in=sorted(labs))
    return q


def can_see_donor(user, collection) -> bool:
    """Who the donor is: never laboratory staff (unless they also oversee collections)."""
    if _within(user, VIEW_COLLECTION, collection.unit):
        return True
    if not _within(user, COLLECT, collection.unit):
        return False
    return (
        user.is_superuser
        or collection.recorded_by_id == user.pk
        or collection.collected_by_id == user.pk
        or (
            collection.session_id is not None
            and collection.session.team.filter(pk=user.pk).exists()
        )
    )


def can_record_custody(user, collection, *, event: str, laboratory=None) -> bool:
    """Collectors seal and hand over the bottles of collections they may see as collectors;
    laboratory staff record what happens at their laboratory."""
    if not _active(user) or not user.has_perm(RECORD_CUSTODY):
        return False
    if event in COLLECTOR_EVENTS and user.has_perm(COLLECT) and can_see_donor(user, collection):
        return True
    if event in LABORATORY_EVENTS and user.has_perm(RECEIVE):
        return laboratory is not None and works_at(user, laboratory)
    return False
