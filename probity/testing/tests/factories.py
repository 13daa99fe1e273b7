"""Builders for testing's records. Everything goes through ``services`` so that each record
has its audit entries and custody events exactly as in production."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from probity.personnel.tests.factories import EmploymentFactory, registrar
from probity.testing import services
from probity.testing.models import Campaign, SpecimenType

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def urine() -> SpecimenType:
    return SpecimenType.objects.get(code="urine")


def people(unit, count: int, **kwargs):
    """``count`` active employments in ``unit``."""
    return [EmploymentFactory(unit=unit, **kwargs) for _ in range(count)]


def make_campaign(
    *,
    actor=None,
    unit,
    mode: str = Campaign.Mode.RANDOM,
    start: bool = True,
    rate_percent: Decimal | None = None,
    **kwargs,
) -> Campaign:
    """A campaign organised by ``unit`` (its agency's), started unless ``start=False``."""
    actor = actor or registrar()
    n = _next()
    if mode == Campaign.Mode.RANDOM and rate_percent is None:
        rate_percent = Decimal("50")
    today = timezone.localdate()
    campaign = services.campaign_create(
        actor=actor,
        code=kwargs.pop("code", f"C-{n:04d}"),
        name_en=kwargs.pop("name_en", f"Campaign {n}"),
        agency=unit.agency,
        unit=unit,
        starts_on=kwargs.pop("starts_on", today - timedelta(days=30)),
        ends_on=kwargs.pop("ends_on", today + timedelta(days=335)),
        mode=mode,
        rate_percent=rate_percent,
        **kwargs,
    )
    if start:
        campaign = services.campaign_start(actor=actor, campaign=campaign)
    return campaign


def make_draw(*, actor=None, campaign, seed: str = "", **kwargs):
    """A committed and performed draw."""
    actor = actor or registrar()
    draw = services.draw_commit(actor=actor, campaign=campaign, seed=seed, **kwargs)
    return services.draw_perform(actor=actor, draw=draw)


def make_session(*, actor, unit, campaign=None, team=(), site: str = "District office"):
    return services.session_create(
        actor=actor,
        unit=unit,
        site=site,
        date=timezone.localdate(),
        team=team or [actor],
        campaign=campaign,
    )


def make_collection(*, actor, employment, when=None, **kwargs):
    """A complete, split urine collection of 60 mL (40 + 20), sealed."""
    kwargs.setdefault("reason", "random" if kwargs.get("selection") else "other")
    kwargs.setdefault("volume_a_ml", 40)
    kwargs.setdefault("volume_b_ml", 20 if kwargs.get("split", True) else None)
    kwargs.setdefault("temperature_c", Decimal("34.5"))
    kwargs.setdefault("seal_a", f"SA{_next():06d}")
    kwargs.setdefault("seal_b", f"SB{_next():06d}")
    kwargs.setdefault("identity_method", "id_card")
    return services.collection_record(
        actor=actor,
        employment=employment,
        collected_at=when or timezone.now() - timedelta(hours=2),
        specimen_type=urine(),
        **kwargs,
    )


def ship_to_lab(*, collector, lab_user, collection, laboratory, seal_intact=True, **receipt):
    """Hand bottle A to a courier and receive it at ``laboratory``; returns the receipt."""
    bottle = collection.bottles.get(label="A")
    now = timezone.now()
    services.custody_record(
        actor=collector,
        bottle=bottle,
        event="handed_over",
        at=now - timedelta(hours=1),
        laboratory=laboratory,
        counter_signer_name="Courier",
        seal_intact=True,
    )
    return services.custody_record(
        actor=lab_user,
        bottle=bottle,
        event="received",
        at=now - timedelta(minutes=30),
        laboratory=laboratory,
        seal_intact=seal_intact,
        **receipt,
    )


def today() -> date:
    return timezone.localdate()
