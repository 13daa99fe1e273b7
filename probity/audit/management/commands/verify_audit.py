"""``manage.py verify_audit [--expect-head COUNT:HASH]``: walk the audit chain.

Exit status 0 when the chain is intact, 1 naming the first entry that was altered, removed
or reordered (or, with ``--expect-head``, where the chain was cut short), 2 when the
recorded head given is malformed.
"""

from django.core.management.base import BaseCommand, CommandError

from probity.audit import chain
from probity.audit.selectors import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain. Exits non-zero naming the first entry that was "
        "altered, removed or reordered. With --expect-head COUNT:HASH (as printed by "
        "'manage.py audit_head' and kept outside the system) a cut-off tail is caught too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="COUNT:HASH",
            help="a head recorded earlier with 'manage.py audit_head'",
        )

    def handle(self, *args, expect_head=None, **options):
        expected = None
        if expect_head is not None:
            try:
                expected = chain.parse_head(expect_head)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=2) from exc
        report = verify_chain(expect_head=expected)
        if not report.ok:
            problem = report.problem
            raise CommandError(
                f"audit chain BROKEN at entry #{problem.seq} ({problem.kind}): "
                f"{problem.message}. Verified before it: {report.count} "
                f"{'entry' if report.count == 1 else 'entries'}, last good head {report.head}."
            )
        line = f"audit chain intact: {report.count} entries, head {report.head_hash}"
        if expected is not None:
            line += f" (continues the recorded head {chain.format_head(*expected)})"
        self.stdout.write(line)
