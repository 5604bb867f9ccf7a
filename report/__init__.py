"""The insight report (`make report`): what people ask, how their partnerships score, which
advice helps, and what the advisor did not understand.

    python -m report                      # into results/report/
    python -m report --out DIR --since 2025-01-01 --no-free-text

Reads Rasa's tracker store (TRACKER_STORE_URL) and the knowledge store (KNOWLEDGE_DB_URL), the
same settings the servers use, read-only, and writes `report.html` (self-contained: inline CSS,
charts as PNG data URIs, no external requests) plus one CSV per table.

Privacy: no sender id or conversation key is written anywhere. The only free text is the
messages the advisor did not understand and the comments left with feedback;
`--no-free-text` leaves both out (their counts remain).

Question figures are the conversations still in the tracker store plus the daily tallies the
retention purge keeps of the conversations it deleted. A question is a message recognised as
one of the seven challenges or eight knowledge topics, not an answer to a form (a health-check
score or a feedback comment) unless the advisor answered it as a question.

The parts: read.py (the stores, read-only, into `Data`), figures.py and groups.py (the tables, one
CSV each), charts.py (matplotlib PNGs), page.py with templates/report.html.j2 and report.css
(Jinja2, autoescaped), export.py (the files), __main__.py (the command line).
"""
