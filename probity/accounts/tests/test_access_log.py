"""Reading someone's account page is noted in the access log."""

import pytest
from django.urls import reverse

from probity.audit.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_reading_a_user_page_is_recorded_in_the_access_log(client, cast):
    client.force_login(cast.administrator)
    url = reverse("accounts:user_detail", args=[cast.commander.username])
    assert client.get(url).status_code == 200
    logged = AccessLogEntry.objects.get(object_type="accounts.user")
    assert (logged.user, logged.object_id) == (cast.administrator, str(cast.commander.pk))


def test_a_refused_user_page_is_not_an_access(client, siem_reap_cast, cast):
    # A Siem Reap administrator cannot open a national user's page, so nothing was read.
    client.force_login(siem_reap_cast.administrator)
    url = reverse("accounts:user_detail", args=[cast.commander.username])
    assert client.get(url).status_code in (403, 404)
    assert not AccessLogEntry.objects.filter(object_type="accounts.user").exists()
