"""`python -m report` (`make report`): see the package's docstring for what it writes."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from actions import settings
from report import __doc__ as DESCRIPTION
from report.export import write
from report.page import build
from report.read import StoreError, as_utc, normalise_url, read_stores, tracker_store_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "results" / "report"


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date or date and time (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {value!r}") from error
    return as_utc(moment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder for report.html and the CSV files (default: results/report)"
    )
    parser.add_argument("--no-free-text", action="store_true", help="leave out the not-understood messages and feedback comments")
    parser.add_argument(
        "--since",
        type=parse_since,
        help="only what happened from this date (UTC), e.g. 2025-01-01; purged tallies count whole days",
    )
    parser.add_argument("--tracker-db", help="tracker store URL (default: TRACKER_STORE_URL, else the launcher's var/tracker.db)")
    parser.add_argument("--knowledge-db", help="knowledge store URL (default: KNOWLEDGE_DB_URL, else var/knowledge.db)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    tracker_url = normalise_url(args.tracker_db) if args.tracker_db else tracker_store_url()
    knowledge_url = normalise_url(args.knowledge_db) if args.knowledge_db else settings.knowledge_db_url()
    try:
        data = read_stores(tracker_url, knowledge_url, args.since)
    except StoreError as error:
        print(f"No report written. {error}", file=sys.stderr)
        return 2
    report = build(data, free_text=not args.no_free_text, since=args.since, now=datetime.now(timezone.utc))
    files = write(report, args.out)
    print(
        f"Insight report written to {files[0]} with {len(files) - 1} CSV files in {time.monotonic() - started:.1f} s: "
        f"{sum(data.questions.values())} questions, {len(data.not_understood)} not understood, "
        f"{len(data.health_checks)} health checks, {len(data.votes)} feedback votes."
        + ("" if data.tracker_found else " (No tracker store yet.)")
        + ("" if data.knowledge_found else " (No knowledge store yet.)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
