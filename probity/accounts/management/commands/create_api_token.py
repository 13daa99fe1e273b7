"""``python manage.py create_api_token <username> [--name NAME]``

Prints a new API token once, on standard output; only its hash is stored.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from probity.accounts.models import User
from probity.accounts.services import token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it once. Only a hash is stored: "
        "copy the token now, it cannot be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument(
            "--name",
            default="Created on the command line",
            help="What uses the token, e.g. 'Central laboratory LIMS'.",
        )

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        if not user.is_active:
            raise CommandError(
                f"The user {username!r} is deactivated; reactivate the account first."
            )
        try:
            token, raw = token_create(actor=None, user=user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(
            f"Token {token.name!r} for {user.username} (begins {token.hint}). "
            "Copy it now; it will not be shown again."
        )
        self.stdout.write(raw)
