"""End to end in a real Chromium: upload a roster with errors, read them, fix the file and
import it in the background while the page follows the progress bar."""

import pytest

from probity.personnel import imports
from probity.personnel.models import Employment, ImportBatch
from probity.testing_support import build_cast, build_org_tree
from tests.conftest import page  # noqa: F401 - the Chromium fixture
from tests.test_browser import assert_accessible, ensure_reference_data, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = ",".join(imports.COLUMNS)


@pytest.fixture
def officer(settings, tmp_path):  # listed before ``page``: see tests/conftest.py
    settings.VAR_DIR = tmp_path / "var"
    ensure_reference_data()
    tree = build_org_tree()
    from probity.org.services import rank_create

    rank_create(actor=None, agency=tree.police, code="CPT", name_en="Captain")
    return build_cast(tree, tree.np_root, suffix="")["personnel_officer"]


def write(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(n, *, sex="M", unit="NP-SR"):
    return f"NP-{n:04d},Sok,Dara{n},សុខ តារា,{sex},1990-04-01,{unit},CPT,Officer,ID{n:06d}"


def test_upload_errors_fix_and_import_with_progress(officer, page, tmp_path, monkeypatch):  # noqa: F811
    log_in(page, officer.username)
    page.goto("/people/import/")
    assert_accessible(page, "the import page")

    # A file with two bad rows: rejected, and the page lists both.
    bad = write(tmp_path, "roster.csv", [row(1), row(2, sex="X"), row(3, unit="NP-NOWHERE")])
    page.set_input_files("#id_file", str(bad))
    page.uncheck("#id_dry_run")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 2
    assert "Write M or F" in errors.nth(0).inner_text()
    assert "Unknown unit code NP-NOWHERE" in errors.nth(1).inner_text()
    with page.expect_download() as download:
        page.click("text=Download all errors as CSV")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    assert content.splitlines()[0] == "row,column,message"
    assert len(content.splitlines()) == 3
    assert_accessible(page, "a rejected import")

    # Fixed; large enough (here: more than one row) to run in the background.
    monkeypatch.setattr(imports, "INLINE_MAX_ROWS", 1)
    good = write(tmp_path, "roster.csv", [row(1), row(2), row(3)])
    page.goto("/people/import/")
    page.set_input_files("#id_file", str(good))
    page.uncheck("#id_dry_run")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    bar = page.locator("[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "0"
    assert "Waiting for the background worker" in page.locator("#batch-status").inner_text()
    assert_accessible(page, "an import in progress")

    # The worker runs the task; the page, polling, shows the outcome without a reload.
    from probity.personnel.tasks import import_roster

    batch = ImportBatch.objects.order_by("-pk").first()
    import_roster.call(batch.pk, False)
    page.locator("#count-created").wait_for()
    assert page.locator("#count-created").inner_text() == "3"
    assert page.locator("[role=progressbar]").count() == 0
    assert Employment.objects.filter(import_batch=batch).count() == 3
    assert not page.failed_static, page.failed_static
