"""The shared cast for every test: a small organisation and one user per role.

``org_tree`` builds the National Police with two provincial commissariats (Phnom Penh and
Siem Reap) and a district inspectorate under Siem Reap, plus a second agency. ``cast`` gives
one user per role assigned over the agency root, and ``siem_reap_cast`` the same roles over
the Siem Reap commissariat only, to test jurisdiction both ways.
"""

import pytest
from django.utils import translation

from probity.testing_support import build_cast, build_org_tree


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The cast hashes a password per user; tests are not about hashing cost. (That the
    installation itself uses Argon2 is tested in accounts.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the installation's default language. A request through the test
    client leaves the language it activated (Khmer, say) on the thread, and messages are
    translated when they are made, so without this a test's English assertions would
    depend on which test ran before it."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def org_tree(db):
    return build_org_tree()


@pytest.fixture
def cast(org_tree):
    return build_cast(org_tree, org_tree.np_root, suffix="")


@pytest.fixture
def siem_reap_cast(org_tree):
    return build_cast(org_tree, org_tree.siem_reap, suffix="_sr")


@pytest.fixture
def superuser(db):
    from probity.accounts.models import User

    return User.objects.create_superuser("root", "root@example.invalid", "Root-pass-2026!")


@pytest.fixture
def api_client_for(client):
    """``api_client_for(user)`` -> a Django test client sending that user's Bearer token."""
    from django.test import Client

    from probity.accounts.services import token_create

    def make(user):
        _, raw = token_create(actor=None, user=user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
