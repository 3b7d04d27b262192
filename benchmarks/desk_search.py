"""How long the desk's account search takes on a large subscriber base; prints figures, asserts nothing.

    python -m benchmarks.desk_search --accounts 200000                          # SQLite in a temp folder
    python -m benchmarks.desk_search --url postgresql://postgres@127.0.0.1/test  # creates and drops its own DB

It inserts synthetic accounts straight into a fresh database, then times ``find_accounts`` for the ways agents
type a caller's details, and shows the query plan of the name search.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from retention_desk.services.accounts import find_accounts
from retention_desk.storage import migrate
from retention_desk.storage.db import dispose_engines, get_engine, normalise_url
from retention_desk.storage.tables import Account

FIRST = ["kari", "ola", "ingrid", "lars", "sofie", "erik", "nora", "jonas", "emma", "henrik", "maja", "aksel"]
LAST = ["nordmann", "hansen", "johansen", "olsen", "larsen", "andersen", "pedersen", "nilsen", "berg", "haugen"]


def fill(url: str, n: int, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST) + str(rng.randint(0, 999))
        phone = f"+479{i:07d}"
        rows.append(
            dict(
                account_no=f"{1_000_000 + i}",
                first_name=first.title(),
                last_name=last.title(),
                name_search=f"{first} {last}",
                surname_search=last,
                phone=phone,
                phone_normalised=phone,
                email=f"{first}.{last}.{i}@example.no",
                email_normalised=f"{first}.{last}.{i}@example.no",
            )
        )
    with get_engine(url).begin() as conn:
        for start in range(0, n, 5000):
            conn.execute(insert(Account.__table__), rows[start : start + 5000])
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE accounts"))
    return rows


def timed(url: str, query: str, repeat: int) -> tuple[float, float, int]:
    times, found = [], 0
    with Session(get_engine(url)) as session:
        for _ in range(repeat):
            start = time.perf_counter()
            found = len(find_accounts(session=session, query=query))
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], found


def name_plan(url: str) -> str:
    with get_engine(url).connect() as conn:
        if conn.dialect.name == "postgresql":
            sql = (
                "EXPLAIN SELECT id FROM accounts WHERE surname_search COLLATE \"C\" >= 'hansen1' "
                "AND surname_search COLLATE \"C\" < 'hansen2' AND surname_search COLLATE \"C\" LIKE 'hansen1%' "
                'ORDER BY surname_search COLLATE "C", id LIMIT 20'
            )
        else:
            sql = (  # the shape find_accounts sends: a range the index can use, then an exact LIKE
                "EXPLAIN QUERY PLAN SELECT id FROM accounts WHERE surname_search >= 'hansen1' "
                "AND surname_search < 'hansen2' AND surname_search LIKE 'hansen1%' ORDER BY surname_search, id LIMIT 20"
            )
        return "\n".join("    " + " ".join(str(c) for c in row) for row in conn.execute(text(sql)))


def run(url: str, n: int, repeat: int, c_index: bool = False) -> None:
    rng = random.Random(5)
    migrate.upgrade(url)
    if c_index:  # what a PostgreSQL migration would add so the name search's ranges can use an index
        with get_engine(url).begin() as conn:
            for column in ("name_search", "surname_search"):
                conn.execute(text(f'CREATE INDEX ix_bench_{column} ON accounts (({column} COLLATE "C"))'))
    start = time.perf_counter()
    rows = fill(url, n, rng)
    print(f"inserted {n:,} accounts in {time.perf_counter() - start:.1f} s ({get_engine(url).dialect.name})")
    sample = rows[n // 2]
    local = sample["phone"][3:]
    queries = {
        "phone with spaces": f"{local[:3]} {local[3:5]} {local[5:]}",
        "phone +47": f"+47 {local}",
        "account no": sample["account_no"],
        "e-mail": sample["email"].upper(),
        "surname prefix": sample["surname_search"][:6],
        "full-name prefix": sample["name_search"][:9],
        "no match": "zzzz",
    }
    print(f"{'query':<18} {'median ms':>10} {'p95 ms':>8} {'found':>6}")
    for label, query in queries.items():
        median, p95, found = timed(url, query, repeat)
        print(f"{label:<18} {median:>10.2f} {p95:>8.2f} {found:>6}")
    print("name-prefix plan:\n" + name_plan(url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--url", help="PostgreSQL server URL; a database is created on it and dropped after")
    parser.add_argument("--c-index", action="store_true", help='PostgreSQL: add COLLATE "C" name indexes')
    args = parser.parse_args()
    if not args.url:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", args.accounts, args.repeat)
            dispose_engines()
        return
    server = make_url(normalise_url(args.url))
    name = f"retention_desk_bench_{uuid.uuid4().hex[:8]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        db_url = server.set(database=name).render_as_string(hide_password=False)
        run(db_url, args.accounts, args.repeat, c_index=args.c_index)
    finally:
        dispose_engines()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
