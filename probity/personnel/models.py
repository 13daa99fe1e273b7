"""People, their employment in an agency, and the history of both.

The current status of an employment is never stored: it is the latest ``StatusChange`` in
force (``selectors.status_on``). The current unit, rank and position are kept on
``Employment`` for fast, scoped lists, and every change to them is an ``EmploymentEvent``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from probity.personnel import rules


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Status(models.TextChoices):
    ACTIVE = rules.ACTIVE, _("Active")
    SUSPENDED = rules.SUSPENDED, _("Suspended")
    REMOVED = rules.REMOVED, _("Removed from position")
    DEMOTED = rules.DEMOTED, _("Demoted")
    DISMISSED = rules.DISMISSED, _("Dismissed (delisted)")
    RESIGNED = rules.RESIGNED, _("Resigned")
    RETIRED = rules.RETIRED, _("Retired")
    DECEASED = rules.DECEASED, _("Deceased")


class ImportBatch(models.Model):
    """One roster file imported (or dry-run). Every change it made points back to it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected: errors in the file")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    dry_run = models.BooleanField(_("dry run"), default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "field", "message"}]
    message = models.TextField(blank=True)
    stored_file = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster import")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"


class Person(models.Model):
    family_name = models.CharField(_("family name"), max_length=100)
    given_name = models.CharField(_("given name"), max_length=100)
    name_km = models.CharField(_("name in Khmer"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    national_id = models.CharField(_("national ID"), max_length=30, blank=True)
    # Lower-case, NFC, space-folded names in both scripts, for search (set by the services).
    search_text = models.CharField(max_length=500, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["national_id"],
                condition=~models.Q(national_id=""),
                name="personnel_person_unique_national_id",
            )
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}".strip()


class Employment(models.Model):
    """A person's service in one agency, under a service number unique within it."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="employments")
    agency = models.ForeignKey("org.Agency", on_delete=models.PROTECT, related_name="+")
    service_number = models.CharField(_("service number"), max_length=30)
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="employments", verbose_name=_("unit")
    )
    rank = models.ForeignKey(
        "org.Rank",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rank"),
    )
    position = models.CharField(_("position"), max_length=200, blank=True)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["service_number"]
        verbose_name = _("employment")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "service_number"], name="personnel_unique_service_number"
            )
        ]
        indexes = [models.Index(fields=["unit", "service_number"])]

    def __str__(self) -> str:
        return f"{self.service_number} ({self.agency_id})"


class EmploymentEvent(models.Model):
    """A change of unit, rank or position (or the start of employment), with its date."""

    class Kind(models.TextChoices):
        STARTED = "started", _("Started")
        TRANSFER = "transfer", _("Transfer")
        RANK = "rank", _("Rank change")
        POSITION = "position", _("Position change")
        DETAILS = "details", _("Personal details corrected")

    employment = models.ForeignKey(Employment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    effective_date = models.DateField(_("effective date"))
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reference = models.CharField(_("order or document"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.effective_date}"


class StatusChange(models.Model):
    """One entry of an employment's status history. The latest in force is the status."""

    employment = models.ForeignKey(
        Employment, on_delete=models.PROTECT, related_name="status_changes"
    )
    status = models.CharField(_("status"), max_length=25, choices=Status.choices)
    effective_date = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("order or document"), max_length=200, blank=True)
    reinstatement = models.BooleanField(_("reinstatement"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    recorded_at = models.DateTimeField(auto_now_add=True)
    import_batch = models.ForeignKey(
        ImportBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["effective_date", "id"]
        indexes = [models.Index(fields=["employment", "effective_date", "id"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} from {self.effective_date}"
