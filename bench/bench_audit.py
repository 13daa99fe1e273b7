"""Audit chain: append throughput and the cost of verifying the whole chain.

Run through ``make bench`` (scripts/bench.sh), which points DATABASE_URL and PROBITY_VAR_DIR
at a throwaway directory. Prints rows of the benchmark table:

    | benchmark | n | time (s) | per item | rate (/s) | peak memory |

``BENCH_AUDIT_N`` changes the number of entries (default 5000).
"""

import os
import sys
import time
import tracemalloc

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "probity.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def row(name: str, n: int, seconds: float, peak_bytes: int | None = None) -> str:
    per_item = seconds / n
    per = f"{per_item * 1e3:.3f} ms" if per_item >= 1e-3 else f"{per_item * 1e6:.1f} µs"
    peak = f"{peak_bytes / 2**20:.1f} MiB" if peak_bytes is not None else "–"
    return f"| {name} | {n:,} | {seconds:.2f} | {per} | {n / seconds:,.0f} | {peak} |"


def main() -> None:
    django.setup()

    from django.core.management import call_command
    from django.db import connection, transaction

    from probity.audit.models import AuditEntry
    from probity.audit.selectors import verify_chain
    from probity.audit.services import audit_record

    n = int(os.environ.get("BENCH_AUDIT_N", "5000"))
    print(f"bench_audit: migrating a fresh {connection.vendor} database", file=sys.stderr)
    call_command("migrate", verbosity=0, interactive=False)
    start_count = AuditEntry.objects.count()  # the migrations may have recorded entries

    payload = {"status": "active", "unit": 12, "note": "ការធ្វើតេស្ត — benchmark"}
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():  # one transaction per append, as in a request
            audit_record(
                actor=None,
                action="bench.append",
                object_type="bench.thing",
                object_id=str(i),
                object_repr=f"Thing {i}",
                before=None,
                after={**payload, "i": i},
            )
    append_seconds = time.perf_counter() - started
    total = AuditEntry.objects.count()
    assert total == start_count + n, (total, start_count, n)

    started = time.perf_counter()
    report = verify_chain()
    verify_seconds = time.perf_counter() - started
    assert report.ok, report.problem
    assert report.count == total

    # Memory apart from timing: tracemalloc slows Python down several times.
    tracemalloc.start()
    report = verify_chain()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.ok

    vendor = connection.vendor
    print(row(f"audit_record append, own transaction ({vendor})", n, append_seconds))
    print(row(f"verify_chain over {total:,} entries ({vendor})", total, verify_seconds, peak))


if __name__ == "__main__":
    main()
