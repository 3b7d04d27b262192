"""The public Orange telecom churn data, inserted as imported accounts with a known churn label and extras."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import Session

from retention_desk.storage.db import get_engine
from retention_desk.storage.tables import Account

ORANGE = Path(__file__).parents[3] / "shared" / "data" / "orange-telecom-churn"
TEXT_COLUMNS = {"state", "area_code", "international_plan", "voice_mail_plan"}


def orange_files() -> list[Path]:
    return [ORANGE / "churn-bigml-80.csv", ORANGE / "churn-bigml-20.csv"]


def insert_orange_accounts(url: str) -> int:
    """Every row of both files as an account with ``churn_label`` and its columns as extras; returns the count."""
    n = 0
    with Session(get_engine(url)) as session:
        for path in orange_files():
            with path.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    label = row.pop("Churn").strip() == "True"
                    extra = {}
                    for column, value in row.items():
                        key = column.strip().lower().replace(" ", "_")
                        extra[key] = value if key in TEXT_COLUMNS else float(value)
                    session.add(Account(account_no=f"OR{n:05d}", churn_label=label, extra=extra, source="orange"))
                    n += 1
        session.commit()
    return n
