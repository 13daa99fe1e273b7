"""Fixtures for the cross-cutting tests: a real Chromium against the live server.

Browser tests are marked ``browser``; ``scripts/test.sh`` runs them in the SQLite pass only.
"""

import os
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def page(live_server, settings):
    """A headless Chromium page on the live server, driven by Playwright's sync API.

    List the test's data fixtures *before* ``page``: Playwright's sync API keeps an asyncio
    event loop running in this thread for as long as the browser lives, and while a loop
    runs Django (through asgiref's context-local storage) hands out a different database
    connection object, which lacks the test database's serialised contents. So the browser
    starts after the data is committed and stops before pytest-django flushes the
    database. For the same reason Django's guard against synchronous database access inside
    a running loop is lifted while the browser lives (the tests are synchronous code).

    Static files are served unhashed from the finders (node_modules included), so that no
    ``collectstatic`` is needed.
    """
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing: scripts/setup.sh installs the chromium package"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must not pass with the browser tests skipped
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(base_url=live_server.url, locale="en-GB")
            context.set_default_timeout(15_000)
            page = context.new_page()
            failed_static: list[str] = []

            def note_missing_static(response):
                if "/static/" in response.url and response.status >= 400:
                    failed_static.append(f"{response.status} {response.url}")

            page.on("response", note_missing_static)
            page.failed_static = failed_static  # tests assert every stylesheet and script loaded
            try:
                yield page
            finally:
                context.close()
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page; the violations of the given impacts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v.get("impact") in impacts]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)
