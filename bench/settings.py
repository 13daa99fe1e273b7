"""Settings for the django-import-export side of ``bench_import.py`` only.

The product never installs django-import-export; the benchmark's child process that runs it
uses these settings: Probity's own, with ``import_export`` added to the installed apps.
"""

from probity.settings import *  # noqa: F403
from probity.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "import_export"]
