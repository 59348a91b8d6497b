"""Reading the CSV that Meta Ads Manager exports (English or Spanish headers), pure.

Only the columns patas needs are read; extra columns are ignored. A file without them gets an
error that lists what was expected and what was found, and nothing is imported.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

# Our field -> header spellings (folded: lower case, no accents, no currency in brackets).
HEADERS: dict[str, tuple[str, ...]] = {
    "campaign": ("campaign name", "nombre de la campana"),
    "ad_set": ("ad set name", "nombre del conjunto de anuncios"),
    "ad_name": ("ad name", "nombre del anuncio"),
    "ad_id": ("ad id", "identificador del anuncio", "id del anuncio"),
    "amount": ("amount spent", "importe gastado"),
    "impressions": ("impressions", "impresiones"),
    "link_clicks": ("link clicks", "clics en el enlace"),
    "starts": ("reporting starts", "inicio del informe"),
    "ends": ("reporting ends", "fin del informe"),
}
REQUIRED = ("ad_name", "amount", "starts", "ends")


class SpendFileError(ValueError):
    pass


@dataclass(frozen=True)
class SpendRow:
    campaign: str
    ad_set: str
    ad_name: str
    ad_id: str
    amount: Decimal
    currency: str
    impressions: int
    link_clicks: int
    starts: date
    ends: date


def fold(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return text.split("(")[0].strip().strip('"').strip()


def _currency(header: str) -> str:
    if "(" in header and ")" in header:
        return header.split("(")[1].split(")")[0].strip().upper()[:3]
    return ""


def _columns(headers: list[str]) -> tuple[dict[str, int], str]:
    folded = [fold(h) for h in headers]
    found: dict[str, int] = {}
    for field, spellings in HEADERS.items():
        for i, name in enumerate(folded):
            if name in spellings:
                found[field] = i
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        expected = "; ".join(f"{f}: {' / '.join(repr(s) for s in HEADERS[f])}" for f in missing)
        raise SpendFileError(
            f"this does not look like an Ads Manager export: missing columns {expected}. "
            f"Found: {', '.join(repr(h) for h in headers) or 'no header'}"
        )
    currency = _currency(headers[found["amount"]]) or "USD"
    return found, currency


def _amount(raw: str, line: int) -> Decimal:
    text = raw.strip().replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # Spanish decimal comma: "12,50"
    text = text.replace(",", "")
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        raise SpendFileError(f"line {line}: amount spent {raw!r} is not a number") from None


def _int(raw: str) -> int:
    text = raw.strip().replace(",", "").replace(".", "")
    return int(text) if text.isdigit() else 0


def _date(raw: str, line: int, what: str) -> date:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise SpendFileError(f"line {line}: {what} {raw!r} is not a date (YYYY-MM-DD)") from None


def parse_spend(data: bytes) -> list[SpendRow]:
    text = data.decode("utf-8-sig", errors="replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel()  # type: ignore[assignment]
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise SpendFileError("the file is empty")
    cols, currency = _columns(rows[0])
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(field: str, row: list[str] = row) -> str:
            i = cols.get(field)
            return row[i] if i is not None and i < len(row) else ""

        out.append(
            SpendRow(
                campaign=cell("campaign").strip(),
                ad_set=cell("ad_set").strip(),
                ad_name=cell("ad_name").strip(),
                ad_id=cell("ad_id").strip(),
                amount=_amount(cell("amount"), line),
                currency=currency,
                impressions=_int(cell("impressions")),
                link_clicks=_int(cell("link_clicks")),
                starts=_date(cell("starts"), line, "reporting starts"),
                ends=_date(cell("ends"), line, "reporting ends"),
            )
        )
    return out
