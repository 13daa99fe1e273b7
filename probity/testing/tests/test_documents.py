"""The printed documents: bottle labels and the custody and control form, in English and
Khmer. Each PDF is rasterised (it must not be blank), its text extracted (the specimen ID is
there, the donor only where allowed) and its fonts listed (Khmer text is set in a Khmer
font, so it is shaped, not drawn as boxes)."""

from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from probity.core.khmer import has_khmer
from probity.core.tests.test_pdf import _fonts
from probity.org.services import laboratory_create
from probity.testing import documents, services
from probity.testing.tests.factories import make_collection, make_session, people

pytestmark = pytest.mark.django_db


def pdf_pages(data: bytes) -> list[dict]:
    """Per page: the extracted text and the share of non-white pixels at 50 dpi."""
    assert data.startswith(b"%PDF-")
    document = pdfium.PdfDocument(data)
    pages = []
    for page in document:
        text = page.get_textpage().get_text_range()
        image = page.render(scale=50 / 72).to_pil().convert("L")
        dark = sum(image.histogram()[:200])  # pixels darker than light grey
        pages.append({"text": text, "ink": dark / (image.width * image.height)})
    return pages


def flat(text: str) -> str:
    """Extracted text without the zero-width spaces and line breaks the layout adds."""
    return "".join(ch for ch in text if ch not in "\u200b\r\n ")


@pytest.fixture
def scene(org_tree, cast):
    """A split collection by the collector in a Phnom Penh session, handed to a laboratory."""
    session = make_session(actor=cast.collector, unit=org_tree.phnom_penh)
    donor = people(org_tree.phnom_penh, 1)[0]
    services.session_add_people(
        actor=cast.collector, session=session, employments=[donor], reason="census"
    )
    collection = make_collection(
        actor=cast.collector,
        employment=donor,
        session=session,
        reason="census",
        seal_a="SEAL-A-0001",
        seal_b="SEAL-B-0002",
        observed=True,
    )
    lab = laboratory_create(actor=None, code="LAB1", name_en="National Laboratory")
    services.custody_record(
        actor=cast.collector,
        bottle=collection.bottles.get(label="A"),
        event="handed_over",
        at=timezone.now() - timedelta(hours=1),
        laboratory=lab,
        counter_signer_name="Courier Chea",
        seal_intact=True,
    )
    return {"collection": collection, "donor": donor, "lab": lab, "session": session}


@pytest.mark.parametrize("language", ["en", "km"])
def test_labels_one_per_bottle_with_the_id_and_no_donor(scene, language):
    collection, donor = scene["collection"], scene["donor"]
    with translation.override(language):
        context = documents.labels_context(collection)
        data = documents.labels_pdf(collection)
    assert [label["bottle"] for label in context["labels"]] == ["A", "B"]
    assert [label["seal_number"] for label in context["labels"]] == ["SEAL-A-0001", "SEAL-B-0002"]
    (page,) = pdf_pages(data)
    assert page["ink"] > 0.005, "the label sheet is blank"
    text = flat(page["text"])
    # twice per label: in large type and under the bars
    assert text.count(collection.specimen_id) == 4
    assert "SEAL-A-0001" in text and "SEAL-B-0002" in text
    assert donor.service_number not in text
    assert flat(donor.person.full_name) not in text
    if language == "km":
        assert has_khmer(page["text"])
        assert b"Khmer" in b" ".join(_fonts(data))


def test_labels_skip_used_positions_on_a_sheet(scene):
    context = documents.labels_context(scene["collection"], start=5)
    assert len(context["blanks"]) == 4
    assert len(documents.labels_context(scene["collection"], start=99)["blanks"]) == 13
    assert len(documents.labels_context(scene["collection"], start=-3)["blanks"]) == 0


@pytest.mark.parametrize("language", ["en", "km"])
def test_custody_form_file_copy_names_the_donor_laboratory_copy_does_not(scene, language):
    collection, donor = scene["collection"], scene["donor"]
    with translation.override(language):
        data = documents.custody_form_pdf(
            collection, copies=[documents.COPY_LABORATORY, documents.COPY_FILE]
        )
    pages = pdf_pages(data)
    assert len(pages) == 2, "each copy fits on one A4 page"
    assert all(page["ink"] > 0.01 for page in pages)
    lab_copy, file_copy = (flat(p["text"]) for p in pages)
    for copy in (lab_copy, file_copy):
        assert collection.specimen_id in copy
        assert "SEAL-A-0001" in copy and "SEAL-B-0002" in copy
        assert "CourierChea" in copy  # the custody chain so far
    assert donor.service_number not in lab_copy
    assert flat(donor.person.full_name) not in lab_copy
    assert flat(donor.person.name_km) not in lab_copy
    assert donor.service_number in file_copy
    assert flat(donor.person.full_name) in file_copy
    if language == "km":
        assert has_khmer("".join(p["text"] for p in pages))
        assert b"Khmer" in b" ".join(_fonts(data))
    else:
        assert "Custodyandcontrolform" in lab_copy
        assert "copyforthelaboratory" in lab_copy.lower()
        assert "copyforthecollectionfile" in file_copy.lower()


def test_custody_form_of_a_rejected_specimen_says_why(scene, cast):
    collection = scene["collection"]
    services.lab_staff_add(actor=cast.administrator, user=cast.lab_analyst, laboratory=scene["lab"])
    services.custody_record(
        actor=cast.lab_analyst,
        bottle=collection.bottles.get(label="A"),
        event="received",
        at=timezone.now() - timedelta(minutes=30),
        laboratory=scene["lab"],
        seal_intact=False,
    )
    collection.refresh_from_db()
    with translation.override("en"):
        text = flat("".join(p["text"] for p in pdf_pages(documents.custody_form_pdf(collection))))
    assert "Rejectedforafatalflaw:Sealbroken" in text


def test_pdf_views_follow_lang_and_scope(client, scene, cast, siem_reap_cast):
    collection = scene["collection"]
    client.force_login(cast.collector)
    for name in ("testing:labels_pdf", "testing:custody_form_pdf"):
        url = reverse(name, args=[collection.specimen_id])
        response = client.get(url, {"lang": "km"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert has_khmer("".join(p["text"] for p in pdf_pages(response.content)))
        response = client.get(url, {"lang": "en"})
        assert response.status_code == 200
        first_page = pdf_pages(response.content)[0]["text"]
        assert collection.specimen_id in first_page
        # in English the first page (the labels, the laboratory's copy) has no Khmer at all;
        # only the donor's name in Khmer script on the file copy may have some
        assert not has_khmer(first_page)
    url = reverse("testing:labels_pdf", args=[collection.specimen_id])
    client.force_login(siem_reap_cast.collector)
    assert client.get(url).status_code == 404
    client.force_login(cast.commander)
    assert client.get(url).status_code == 403


def test_laboratory_gets_only_its_copy_of_the_form(client, scene, cast):
    collection, donor = scene["collection"], scene["donor"]
    services.lab_staff_add(actor=cast.administrator, user=cast.lab_analyst, laboratory=scene["lab"])
    client.force_login(cast.lab_analyst)
    url = reverse("testing:custody_form_pdf", args=[collection.specimen_id])
    for query in ({}, {"copy": "file"}):
        response = client.get(url, query)
        assert response.status_code == 200
        pages = pdf_pages(response.content)
        assert len(pages) == 1
        text = flat(pages[0]["text"])
        assert collection.specimen_id in text
        assert donor.service_number not in text
        assert flat(donor.person.full_name) not in text


def documents_text(data: bytes) -> str:
    return "".join(p["text"] for p in pdf_pages(data))
