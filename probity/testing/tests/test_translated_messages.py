"""The back end's errors come out in the language of the person who reads them.

Services, rules and the API mark their messages with ``gettext`` and evaluate them when the
error happens: the same call gives English by default and Khmer under the Khmer language,
with the values (codes, service numbers) kept and the words inside a sentence (a status, a
custody event) translated too. The API follows the ``Accept-Language`` header (Django's
``LocaleMiddleware`` is active for ``/api/``): a client that sends none, as machine clients
do, gets English.

The Khmer texts below are those of ``probity/locale/km/LC_MESSAGES/django.po``; these tests
fail if a message stops being marked, if the catalogue loses its translation or if the
compiled catalogue is stale.
"""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from probity.personnel import rules as personnel_rules
from probity.personnel import services as personnel_services
from probity.personnel.tests.factories import registrar
from probity.testing import rules, services
from probity.testing.models import Campaign, Collection
from probity.testing.tests.factories import make_campaign, people, urine

pytestmark = pytest.mark.django_db

LATIN_LETTERS = re.compile("[A-Za-z]")
KHMER = re.compile("[\u1780-\u17ff]")


def _messages(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.message_dict


# --- a testing service -----------------------------------------------------------------------


def test_a_testing_service_error_is_in_khmer_under_khmer_and_english_otherwise(org_tree):
    make_campaign(unit=org_tree.np_root, code="KM-2026", start=False)
    before = Campaign.objects.count()

    def again():
        make_campaign(unit=org_tree.np_root, code="KM-2026", start=False)

    with translation.override("km"):
        khmer = _messages(again)
    with translation.override("en"):
        english = _messages(again)

    assert khmer["code"] == ["មានយុទ្ធនាការដែលមានកូដ KM-2026 រួចហើយ។"]
    assert english["code"] == ["A campaign with code KM-2026 already exists."]
    assert Campaign.objects.count() == before


def test_a_collection_refused_by_the_rules_says_why_in_khmer(org_tree):
    donor = people(org_tree.phnom_penh, 1)[0]

    def collect():
        services.collection_record(
            actor=registrar(),
            employment=donor,
            reason="random",
            specimen_type=urine(),
            collected_at=timezone.now() - timedelta(hours=1),
            split=True,
            volume_a_ml=20,
            volume_b_ml=10,
            seal_a="SA-1",
            seal_b="SB-1",
        )

    with translation.override("km"):
        khmer = _messages(collect)
    with translation.override("en"):
        english = _messages(collect)

    assert khmer["volume_a_ml"] == [
        "30 mL តិចជាង 45 mL ដែលត្រូវការ៖ សូមរង់ចាំសំណាកឱ្យគ្រប់គ្រាន់ (រហូតដល់ ៣ ម៉ោង) ឬកត់ត្រាការបដិសេធ ព្រមទាំងមូលហេតុ។"
    ]
    assert english["volume_a_ml"][0].startswith("30 mL is less than the 45 mL needed")
    assert not Collection.objects.filter(employment=donor).exists()


def test_custody_events_inside_a_sentence_are_translated_too():
    with translation.override("km"):
        khmer = rules.custody_sequence_error("handed_over", "stored")
    with translation.override("en"):
        english = rules.custody_sequence_error("handed_over", "stored")

    assert khmer == "ដបមិនអាចត្រូវបានរក្សាទុក ភ្លាមៗបន្ទាប់ពីត្រូវបានប្រគល់ ទេ។"
    assert english == "A bottle cannot be stored right after being handed over."


# --- a personnel service -------------------------------------------------------------------


def test_a_personnel_service_error_is_in_khmer_status_word_and_full_stop_included(org_tree):
    employment = people(org_tree.phnom_penh, 1)[0]
    changes = employment.status_changes.count()

    def record_active_again():
        personnel_services.status_record(
            actor=registrar(),
            employment=employment,
            status=personnel_rules.ACTIVE,
            effective_date=timezone.localdate(),
        )

    with translation.override("km"):
        khmer = _messages(record_active_again)
    with translation.override("en"):
        english = _messages(record_active_again)

    assert khmer["status"] == ["បុគ្គលនេះមានស្ថានភាព សកម្ម រួចហើយ។"]
    assert not LATIN_LETTERS.search(khmer["status"][0])
    assert english["status"] == ["The person is already active."]
    assert employment.status_changes.count() == changes


def test_a_personnel_field_error_keeps_its_value_in_khmer(org_tree):
    employment = people(org_tree.phnom_penh, 1)[0]

    def register_the_same_service_number():
        personnel_services.person_create(
            actor=registrar(),
            family_name="Sok",
            given_name="Dara",
            service_number=employment.service_number,
            unit=org_tree.siem_reap,
        )

    with translation.override("km"):
        khmer = _messages(register_the_same_service_number)

    assert khmer["service_number"] == [
        f"អត្តលេខមន្ត្រី {employment.service_number} ត្រូវបានប្រើរួចហើយក្នុងស្ថាប័ននេះ។"
    ]


# --- the API -------------------------------------------------------------------------------

COLLECTIONS = "/api/v1/collections"


def _collection_body(donor) -> dict:
    return {
        "person": donor.pk,
        "reason": "random",
        "collected_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "specimen_type": "blood",
        "split": True,
        "volume_a_ml": 40,
        "volume_b_ml": 20,
        "seal_a": "SA-0001",
        "seal_b": "SB-0001",
    }


def _post(api, body, around: str = "en", **headers):
    # The request activates its own language; the override puts the test's back afterwards.
    with translation.override(around):
        return api.post(COLLECTIONS, json.dumps(body), content_type="application/json", **headers)


def test_the_api_answers_in_khmer_when_the_client_asks_for_it(api_client_for, cast, org_tree):
    donor = people(org_tree.phnom_penh, 1)[0]
    api = api_client_for(cast.collector)

    response = _post(api, _collection_body(donor), HTTP_ACCEPT_LANGUAGE="km")

    assert response.status_code == 422, response.content
    assert response["Content-Language"] == "km"
    message = "គ្មានប្រភេទសំណាកដែលមានកូដ 'blood' ទេ។"
    assert response.json() == {
        "detail": message,
        "errors": [{"field": "specimen_type", "message": message}],
    }
    assert not Collection.objects.exists()


def test_the_api_stays_english_for_a_client_that_names_no_language(api_client_for, cast, org_tree):
    donor = people(org_tree.phnom_penh, 1)[0]
    api = api_client_for(cast.collector)

    # Whatever language was active before: the request's own (none named: English) decides.
    response = _post(api, _collection_body(donor), around="km")

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"] == "There is no specimen type with code 'blood'."
    assert not KHMER.search(json.dumps(body, ensure_ascii=False))


def test_a_service_error_through_the_api_is_in_khmer_too(api_client_for, cast, org_tree):
    donor = people(org_tree.phnom_penh, 1)[0]
    api = api_client_for(cast.collector)
    body = {**_collection_body(donor), "specimen_type": "urine", "volume_b_ml": 1}

    response = _post(api, body, HTTP_ACCEPT_LANGUAGE="km")

    assert response.status_code == 422, response.content
    answer = response.json()
    errors = {e["field"]: e["message"] for e in answer["errors"]}
    assert errors["volume_a_ml"].startswith("41 mL តិចជាង 45 mL ដែលត្រូវការ៖")
    # The one sentence around the first message is Khmer too, not "The request is not valid".
    assert answer["detail"] == f"សំណើនេះមិនត្រឹមត្រូវទេ ({answer['errors'][0]['message']})"
    assert not Collection.objects.exists()
