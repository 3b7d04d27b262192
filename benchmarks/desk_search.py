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
import time

from sqlalchemy import insert, text
from sqlmodel import Session

from benchmarks.scratch import scratch_database
from retention_desk.services.accounts import find_accounts
from retention_desk.storage import migrate
from retention_desk.storage.db import get_engine
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
        explain = "EXPLAIN" if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
        sql = (  # the shape find_accounts sends: a range the index can use, then an exact LIKE
            f"{explain} SELECT id FROM accounts WHERE surname_search >= 'hansen1' "
            "AND surname_search < 'hansen2' AND surname_search LIKE 'hansen1%' ORDER BY surname_search, id LIMIT 20"
        )
        return "\n".join("    " + " ".join(str(c) for c in row) for row in conn.execute(text(sql)))


def run(url: str, n: int, repeat: int) -> None:
    rng = random.Random(5)
    migrate.upgrade(url)
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
    args = parser.parse_args()
    backend, admin = ("postgresql", args.url) if args.url else ("sqlite", None)
    with scratch_database(backend, admin) as url:
        run(url, args.accounts, args.repeat)


if __name__ == "__main__":
    main()
