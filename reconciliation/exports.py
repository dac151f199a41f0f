"""A day's report as CSV or XLSX: the figures, the tenders and every item behind a variance."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook

from reconciliation.models import ReconciliationDay, ReconciliationRun, VarianceItem

FIGURE_HEADER = ["Line", "POS", "Fulfil", "In flight", "Variance (POS − Fulfil)", "Status"]
TENDER_HEADER = ["Tender", "POS", "In flight", "Fulfil", "Variance", "Status", "Batches (reference: amount)"]
ITEM_HEADER = [
    "Cause",
    "Explained",
    "Transaction",
    "Channel identifier",
    "Fulfil sale ids",
    "POS amount",
    "Fulfil amount",
    "Difference",
    "Exception group",
    "Detail",
]


def _num(value):
    return Decimal(value) if value not in (None, "") else ""


def report_sections(day: ReconciliationDay, run: ReconciliationRun, items: list[VarianceItem]) -> list[tuple]:
    head = [
        ["Store", day.pos_location_name or day.pos_location_id, "Source", day.source.code],
        ["Business date", day.business_date.isoformat(), "Status", run.get_status_display()],
        [
            "Generated at",
            run.generated_at.isoformat(),
            "After month close",
            "yes" if run.after_close else "no",
        ],
    ]
    figures = [
        [
            line["label"],
            _num(line["pos"]),
            _num(line["fulfil"]),
            _num(line["in_flight"]),
            _num(line["variance"]),
            line["status"] or "POS only",
        ]
        for line in run.figures
    ]
    tenders = [
        [
            t["tender"],
            _num(t["pos"]),
            _num(t["in_flight"]),
            _num(t["fulfil"]),
            _num(t["variance"]),
            t["status"] or "not batched yet",
            "; ".join(f"{b['fulfil_reference'] or '(not posted)'}: {b['amount']}" for b in t["batches"]),
        ]
        for t in run.tenders
    ]
    rows = [
        [
            i.get_kind_display(),
            "yes" if i.explained else "no",
            (i.transaction.pos_number or i.transaction.pos_id) if i.transaction else "",
            i.channel_identifier,
            " ".join(str(s) for s in i.fulfil_sale_ids),
            i.pos_amount,
            i.fulfil_amount,
            i.difference,
            i.exception_group.title if i.exception_group else "",
            i.detail,
        ]
        for i in items
    ]
    return [
        ("Report", None, head),
        ("Figures", FIGURE_HEADER, figures),
        ("Tenders", TENDER_HEADER, tenders),
        ("Items", ITEM_HEADER, rows),
    ]


def report_csv(sections) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for title, header, rows in sections:
        writer.writerow([f"# {title}"])
        if header:
            writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return out.getvalue()


def report_xlsx(sections) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sections:
        sheet = book.create_sheet(title)
        if header:
            sheet.append(header)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
