"""``manage.py audit_head``: the audit chain's head, to record outside the system.

The first line is ``COUNT:HASH``, the form ``verify_audit --expect-head`` accepts; with
``-v 0`` it is the only line.
"""

from django.core.management.base import BaseCommand

from probity.audit import chain
from probity.audit.selectors import audit_head


class Command(BaseCommand):
    help = (
        "Print the audit chain's head as COUNT:HASH. Keep it outside the system (on paper, in "
        "another system's log) and check later with 'manage.py verify_audit --expect-head "
        "COUNT:HASH', which also catches entries removed from the end."
    )

    def handle(self, *args, **options):
        count, head_hash = audit_head()
        head = chain.format_head(count, head_hash)
        self.stdout.write(head)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"audit chain head: {count} entries, last hash {head_hash}. Record it outside "
                f"the system; check later with: manage.py verify_audit --expect-head {head}"
            )
