import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from probity.accounts.roles import Role


class User(AbstractUser):
    """A person who logs in. Service numbers make good usernames."""

    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        ordering = ["username"]
        permissions = [
            ("manage_users", "Can manage users and their assignments"),
            ("manage_tokens", "Can create and revoke API tokens"),
        ]

    def active_assignments(self):
        return self.assignments.filter(revoked_at__isnull=True).select_related("unit")

    def roles(self) -> set[str]:
        """The roles this user holds anywhere (the superuser holds every role)."""
        if not self.is_active:
            return set()
        if self.is_superuser:
            return set(Role.values)
        if not hasattr(self, "_probity_roles"):
            self._probity_roles = set(self.active_assignments().values_list("role", flat=True))
        return self._probity_roles

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles() & set(roles))

    def unit_paths(self, *roles: str) -> list[str] | None:
        """Tree paths of the units where the user holds any of ``roles``.

        ``None`` means everywhere (the superuser). An empty list means nowhere.
        """
        if not self.is_active:
            return []
        if self.is_superuser:
            return None
        qs = self.active_assignments()
        if roles:
            qs = qs.filter(role__in=roles)
        return sorted(set(qs.values_list("unit__path", flat=True)))


class Assignment(models.Model):
    """One role over one organisation unit and everything under it."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    unit = models.ForeignKey(
        "org.Unit", on_delete=models.PROTECT, related_name="assignments", verbose_name=_("unit")
    )
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "unit"],
                condition=models.Q(revoked_at__isnull=True),
                name="accounts_assignment_unique_active",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.get_role_display()} @ {self.unit.code}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


TOKEN_PREFIX = "prb_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is a sound way to store them."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
