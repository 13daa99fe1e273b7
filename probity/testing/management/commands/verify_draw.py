"""``manage.py verify_draw DRAW_ID [--pool-out FILE]``: re-run a random draw and check it.

Prints each check of ``selectors.draw_verify`` with ``pass`` or ``FAIL`` and what it
establishes, then the number of people selected and of alternates and the first selected
service numbers, in draw order. Exit status 0 when every check passes; 1 naming the failed
checks otherwise; 2 for an unknown draw, one not yet made, or a file that cannot be written.

``--pool-out FILE`` writes the frozen pool's canonical text (decompressed: one line
``key<TAB>service number<TAB>unit`` per person, sorted by key), so that an outsider can
re-run the published algorithm (docs/decisions/0007-random-draw.md) on it with the revealed
seed, without this program.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from probity.testing import rules, selectors
from probity.testing.models import Draw

#: How many selected service numbers to print.
SHOWN = 10


class Command(BaseCommand):
    help = (
        "Verify a random draw: the seed against its commitment, the frozen pool against its "
        "digest and the audit log, and a re-run of the published algorithm against the "
        "stored selections. Exits non-zero naming any failed check."
    )

    def add_arguments(self, parser):
        parser.add_argument("draw_id", type=int, help="the draw's id")
        parser.add_argument(
            "--pool-out",
            metavar="FILE",
            help="write the frozen pool's canonical text (decompressed) to FILE",
        )

    def handle(self, *args, draw_id: int, pool_out: str | None = None, **options):
        draw = Draw.objects.select_related("campaign").filter(pk=draw_id).first()
        if draw is None:
            raise CommandError(f"There is no draw with id {draw_id}.", returncode=2)
        if draw.state != Draw.State.DRAWN:
            raise CommandError(
                f"Draw {draw_id} ({draw}) has not been made yet: its seed is committed "
                f"(SHA-256 {draw.seed_hash}) and nothing can be verified before the draw.",
                returncode=2,
            )
        out = self.stdout
        out.write(f"Draw {draw.pk}: {draw} — algorithm {draw.algorithm}")
        if draw.algorithm != rules.DRAW_ALGORITHM:
            out.write(
                f"  note: this program implements {rules.DRAW_ALGORITHM}, "
                f"the draw was made with {draw.algorithm}"
            )
        out.write(f"  seed:            {draw.seed}")
        out.write(f"  commitment:      {draw.seed_hash}")
        out.write(f"  pool:            {draw.pool_size} people, SHA-256 {draw.pool_digest}")
        out.write(
            f"  sample size:     {draw.sample_size}"
            + (f" (rate {draw.rate_percent} %)" if draw.rate_percent is not None else "")
            + f", alternates {draw.alternates}"
            + (" per unit, two stages by unit" if draw.by_unit else ", single stage")
        )
        out.write(f"  selection:       SHA-256 {draw.selection_digest}")
        if pool_out:
            try:
                Path(pool_out).write_bytes(selectors.pool_of(draw))
            except OSError as exc:
                raise CommandError(
                    f"Cannot write the pool to {pool_out}: {exc}", returncode=2
                ) from exc
            out.write(f"  pool written to: {pool_out}")

        result = selectors.draw_verify(draw)
        out.write("")
        out.write("Checks:")
        width = max(len(name) for name, _, _ in result.checks)
        for name, passed, detail in result.checks:
            out.write(f"  {'pass' if passed else 'FAIL'}  {name:<{width}}  {detail}")
        out.write("")
        out.write(f"Re-run: {len(result.selected)} selected, {len(result.alternates)} alternates.")
        if result.selected:
            first = ", ".join(e.service_number for e in result.selected[:SHOWN])
            more = " ..." if len(result.selected) > SHOWN else ""
            out.write(f"First selected, in order: {first}{more}")
        failed = [name for name, passed, _ in result.checks if not passed]
        if failed:
            raise CommandError(
                f"draw {draw.pk} FAILED verification: {', '.join(failed)}.", returncode=1
            )
        out.write(f"Draw {draw.pk} verified: every check passed.")
