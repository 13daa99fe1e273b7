"""Testing, part 1: panels, campaigns, random draws, collection sessions, collections,
bottles and their chain of custody.

Workflows live in ``services.py``; the rules they apply in ``rules.py``. A panel version,
a frozen draw and a custody event are never edited once written: corrections are new rows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from probity.core.models import BilingualNameMixin
from probity.testing import rules


class Reason(models.TextChoices):
    """Why a person is tested (API.md ``reason``)."""

    CENSUS = "census", _("Census (everyone in scope)")
    RANDOM = "random", _("Random selection")
    REASONABLE_SUSPICION = "reasonable_suspicion", _("Reasonable suspicion")
    POST_INCIDENT = "post_incident", _("Post-incident")
    RETURN_TO_DUTY = "return_to_duty", _("Return to duty")
    FOLLOW_UP = "follow_up", _("Follow-up")
    OTHER = "other", _("Other")


class SpecimenType(BilingualNameMixin):
    """Urine by default; oral fluid and hair are configurable types."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    minimum_volume_ml = models.PositiveIntegerField(_("minimum volume (mL)"), null=True, blank=True)
    temperature_check = models.BooleanField(_("temperature checked"), default=False)
    splittable = models.BooleanField(_("may be split into bottles A and B"), default=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("specimen type")

    def __str__(self) -> str:
        return self.name


class Panel(BilingualNameMixin):
    """A named drug panel. Its content is in versions; ``is_default`` marks the panel every
    agency uses unless it has chosen another (``agencies``)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    specimen_type = models.ForeignKey(
        SpecimenType, on_delete=models.PROTECT, verbose_name=_("specimen type")
    )
    is_default = models.BooleanField(_("installation default"), default=False)
    agencies = models.ManyToManyField(
        "org.Agency",
        blank=True,
        related_name="+",
        verbose_name=_("default for agencies"),
        help_text=_("Agencies whose current panel this is (otherwise the installation default)."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("drug panel")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="testing_one_default_panel",
            )
        ]

    def __str__(self) -> str:
        return self.code


class PanelVersion(models.Model):
    """The cutoffs and validity rules of a panel from a date. Never edited once saved."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    definition = models.JSONField(_("definition"))
    source = models.CharField(_("source"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "version"], name="testing_panel_version")
        ]

    def __str__(self) -> str:
        return f"{self.panel.code} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.panel.code} v{self.version}"


class Campaign(BilingualNameMixin):
    class Mode(models.TextChoices):
        CENSUS = "census", _("Everyone in scope")
        RANDOM = "random", _("Random draws")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        COMPLETE = "complete", _("Complete")
        CANCELLED = "cancelled", _("Cancelled")

    class Frequency(models.TextChoices):
        ONCE = "once", _("Once")
        WEEKLY = "weekly", _("Weekly")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")

    code = models.CharField(_("code"), max_length=40, unique=True)
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    # The unit that runs the campaign: who may see and manage it follows from it.
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("organising unit")
    )
    scope_units = models.ManyToManyField(
        "org.Unit",
        blank=True,
        related_name="+",
        verbose_name=_("units in scope"),
        help_text=_("Each with its whole subtree. None: the whole organising unit."),
    )
    provinces = models.ManyToManyField(
        "org.Province",
        blank=True,
        related_name="+",
        verbose_name=_("provinces"),
        help_text=_("Only units placed in these provinces. None: every province."),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    rate_percent = models.DecimalField(
        _("rate per draw (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    frequency = models.CharField(
        _("draws"), max_length=10, choices=Frequency.choices, default=Frequency.ONCE
    )
    target_coverage_percent = models.DecimalField(
        _("target coverage (%)"), max_digits=5, decimal_places=2, default=100
    )
    by_unit = models.BooleanField(_("draw in two stages by unit"), default=False)
    alternates = models.PositiveIntegerField(_("alternates per draw"), default=0)
    panel = models.ForeignKey(
        Panel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("panel"),
        help_text=_("Empty: the agency's current panel."),
    )
    screen_negative_closes = models.BooleanField(
        _("a negative on-site screen closes the test"), default=False
    )
    depends_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dependants",
        verbose_name=_("starts after"),
        help_text=_("This campaign may start only once that one is complete."),
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "code"]
        verbose_name = _("campaign")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="testing_campaign_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"


class Draw(models.Model):
    """One random selection: commit a seed (its hash is published), then draw.

    At the draw the eligible pool is frozen as a canonical text (``rules.pool_text``)
    stored compressed with its digest; the seed is revealed. Anyone can re-run
    ``rules.draw`` on the two and compare with the stored selections.
    """

    class State(models.TextChoices):
        COMMITTED = "committed", _("Seed committed")
        DRAWN = "drawn", _("Drawn")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="draws")
    number = models.PositiveIntegerField(_("number"))
    algorithm = models.CharField(max_length=40, default=rules.DRAW_ALGORITHM)
    state = models.CharField(max_length=10, choices=State.choices, default=State.COMMITTED)
    seed_hash = models.CharField(_("seed commitment (SHA-256)"), max_length=64)
    # Secret until the draw; revealed (shown) once drawn.
    seed = models.CharField(max_length=128)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    committed_at = models.DateTimeField(auto_now_add=True)
    rate_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    alternates = models.PositiveIntegerField(default=0)
    by_unit = models.BooleanField(default=False)
    pool_size = models.PositiveIntegerField(null=True, blank=True)
    pool_digest = models.CharField(_("pool digest (SHA-256)"), max_length=64, blank=True)
    pool_snapshot = models.BinaryField(null=True, blank=True)  # gzip of rules.pool_text
    selection_digest = models.CharField(max_length=64, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    drawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="testing_draw_number")
        ]

    def __str__(self) -> str:
        return f"{self.campaign.code} draw {self.number}"


class Selection(models.Model):
    """A person picked by a draw (or an alternate), in draw order."""

    class Kind(models.TextChoices):
        SELECTED = "selected", _("Selected")
        ALTERNATE = "alternate", _("Alternate")

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="selections")
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(max_length=10, choices=Kind.choices)
    employment = models.ForeignKey(
        "personnel.Employment", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    excused = models.BooleanField(_("excused"), default=False)
    excusal_reason = models.TextField(_("reason for the excusal"), blank=True)
    excused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    excused_at = models.DateTimeField(null=True, blank=True)
    # An alternate called in to replace an excused person.
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        ordering = ["draw", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["draw", "kind", "position"], name="testing_selection_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.draw} #{self.position} ({self.kind})"

    @property
    def to_test(self) -> bool:
        """Selected and not excused, or an alternate called in."""
        if self.excused:
            return False
        return self.kind == self.Kind.SELECTED or self.replaces_id is not None


class CollectionSession(models.Model):
    """A testing team's visit: a place, a day, its members and the people to test."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit visited")
    )
    site = models.CharField(_("place"), max_length=300)
    date = models.DateField(_("date"))
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="collection_sessions", verbose_name=_("team")
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("collection session")

    def __str__(self) -> str:
        return f"{self.date} {self.site}"


class SessionEntry(models.Model):
    """One person on a session's list, from a draw or added by hand (census, suspicion)."""

    session = models.ForeignKey(CollectionSession, on_delete=models.PROTECT, related_name="entries")
    employment = models.ForeignKey(
        "personnel.Employment", on_delete=models.PROTECT, related_name="+"
    )
    selection = models.ForeignKey(
        Selection, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=25, choices=Reason.choices)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "employment"], name="testing_session_entry_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session} - {self.employment}"


class Collection(models.Model):
    """One collection (or refusal) from one person, under one specimen ID."""

    class State(models.TextChoices):
        COLLECTED = "collected", _("Collected")
        REFUSED = "refused", _("Refused at collection")
        CLOSED_SCREEN = "closed_screen", _("Closed: negative on-site screen")
        REJECTED = "rejected", _("Rejected: fatal flaw")

    class Refusal(models.TextChoices):
        NO_SHOW = "no_show", _("Did not appear")
        LEFT_EARLY = "left_early", _("Left before the test was complete")
        INSUFFICIENT = (
            "insufficient_specimen",
            _("No sufficient specimen within 3 hours, without a medical reason"),
        )
        OBSTRUCTED = "obstructed_observation", _("Obstructed an observed collection")
        TAMPERING = "tampering", _("Tampering admitted or found")
        DECLINED_SECOND = "declined_second_collection", _("Declined a second collection")

    class Flaw(models.TextChoices):
        ID_MISMATCH = rules.FLAW_ID_MISMATCH, _("Specimen ID on the bottle does not match the form")
        SEAL_BROKEN = rules.FLAW_SEAL_BROKEN, _("Seal broken")
        NO_COLLECTOR = rules.FLAW_NO_COLLECTOR, _("No collector identity")
        INSUFFICIENT = rules.FLAW_INSUFFICIENT, _("Too little specimen")

    class Screen(models.TextChoices):
        NEGATIVE = "negative", _("Negative")
        NON_NEGATIVE = "non_negative", _("Non-negative")
        INCONCLUSIVE = "inconclusive", _("Inconclusive")

    class IdentityMethod(models.TextChoices):
        ID_CARD = "id_card", _("Service or national ID card")
        KNOWN = "known", _("Known to a team member")
        SUPERVISOR = "supervisor", _("Identified by a supervisor")

    specimen_id = models.CharField(_("specimen ID"), max_length=20, unique=True)
    employment = models.ForeignKey(
        "personnel.Employment",
        on_delete=models.PROTECT,
        related_name="collections",
        verbose_name=_("person"),
    )
    # The donor's unit when collected: scope and statistics do not move with later transfers.
    unit = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=25, choices=Reason.choices)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="collections"
    )
    session = models.ForeignKey(
        CollectionSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collections",
    )
    selection = models.ForeignKey(
        Selection, on_delete=models.PROTECT, null=True, blank=True, related_name="collections"
    )
    panel_version = models.ForeignKey(
        PanelVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("panel")
    )
    specimen_type = models.ForeignKey(
        SpecimenType, on_delete=models.PROTECT, verbose_name=_("specimen type")
    )
    collected_at = models.DateTimeField(_("collected at"))
    site = models.CharField(_("place"), max_length=300, blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collector"),
    )
    collectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("team present")
    )
    identity_checked = models.BooleanField(_("identity checked"), default=False)
    identity_method = models.CharField(
        _("identity checked by"), max_length=20, choices=IdentityMethod.choices, blank=True
    )
    split = models.BooleanField(_("split into bottles A and B"), default=True)
    observed = models.BooleanField(_("directly observed"), default=False)
    temperature_c = models.DecimalField(
        _("temperature (°C)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    temperature_in_range = models.BooleanField(_("temperature in range"), null=True, blank=True)
    donor_confirmed = models.BooleanField(_("donor confirmed"), default=False)
    collector_confirmed = models.BooleanField(_("collector confirmed"), default=False)
    screen_result = models.CharField(
        _("on-site screen"), max_length=15, choices=Screen.choices, blank=True
    )
    state = models.CharField(max_length=15, choices=State.choices, default=State.COLLECTED)
    refusal_reason = models.CharField(
        _("refusal"), max_length=30, choices=Refusal.choices, blank=True
    )
    rejection_reason = models.CharField(
        _("fatal flaw"), max_length=30, choices=Flaw.choices, blank=True
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        verbose_name = _("collection")
        indexes = [
            models.Index(fields=["campaign", "state"]),
            models.Index(fields=["employment", "collected_at"]),
        ]

    def __str__(self) -> str:
        return self.specimen_id


class Bottle(models.Model):
    class Label(models.TextChoices):
        A = "A", "A"
        B = "B", "B"

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="bottles")
    label = models.CharField(max_length=1, choices=Label.choices)
    seal_number = models.CharField(_("seal number"), max_length=40, blank=True)
    volume_ml = models.PositiveIntegerField(_("volume (mL)"), null=True, blank=True)

    class Meta:
        ordering = ["collection", "label"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "label"], name="testing_bottle_label")
        ]

    def __str__(self) -> str:
        return f"{self.collection.specimen_id} {self.label}"


class CustodyEvent(models.Model):
    """One link of a bottle's chain of custody: who, a counter-signer, where, when, seal."""

    class Event(models.TextChoices):
        SEALED = "sealed", _("Sealed")
        HANDED_OVER = "handed_over", _("Handed over")
        RECEIVED = "received", _("Received at the laboratory")
        ALIQUOTED = "aliquoted", _("Aliquoted")
        STORED = "stored", _("Stored")
        DISPOSED = "disposed", _("Disposed of")

    bottle = models.ForeignKey(Bottle, on_delete=models.PROTECT, related_name="custody")
    event = models.CharField(_("event"), max_length=15, choices=Event.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    counter_signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("counter-signed by"),
    )
    counter_signer_name = models.CharField(
        _("counter-signer (outside Probity)"), max_length=200, blank=True
    )
    location = models.CharField(_("where"), max_length=300, blank=True)
    laboratory = models.ForeignKey(
        "org.Laboratory", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seal_intact = models.BooleanField(_("seal intact"), null=True, blank=True)
    id_matches = models.BooleanField(_("specimen ID matches the form"), null=True, blank=True)
    volume_ml = models.PositiveIntegerField(_("volume found (mL)"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    flaw = models.CharField(max_length=30, choices=Collection.Flaw.choices, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["bottle", "at", "id"]
        indexes = [models.Index(fields=["laboratory", "event"])]

    def __str__(self) -> str:
        return f"{self.bottle} {self.event} {self.at:%Y-%m-%d %H:%M}"


class LaboratoryStaff(models.Model):
    """Which laboratory a laboratory analyst or certifier works for: they see only the
    specimens that reach it, by specimen ID, never the donor."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="laboratory_posts"
    )
    laboratory = models.ForeignKey("org.Laboratory", on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "laboratory"], name="testing_lab_staff_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.laboratory}"
