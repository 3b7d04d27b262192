"""Import accounts from a billing-system CSV: stream, convert, upsert in chunks, all or nothing.

The file is read row by row and written in chunks of ``CHUNK_ROWS`` inside one transaction, so memory stays
flat however long the file is. Any bad row rolls the whole import back (unless ``skip_bad_rows``), and every
bad line is still reported, so one run tells the operator everything that needs fixing.
"""

from __future__ import annotations

import codecs
import csv
import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from retention_desk.domain.progress import SILENT, Progress
from retention_desk.services.audit import record_event
from retention_desk.services.importing.mapping import ImportFailed, ImportMapping, MappingError, load_mapping
from retention_desk.services.importing.rows import AccountRow, BadRow, RowConverter, RowProblem
from retention_desk.storage.accounts_import import AccountImportWriter, refresh_account_statistics
from retention_desk.storage.db import session_scope

__all__ = ["ImportFailed", "ImportMapping", "ImportReport", "MappingError", "import_accounts", "load_mapping"]

CHUNK_ROWS = 5_000
KEEP_BAD_ROWS = 1_000  # described one by one; beyond this only counted, so memory stays bounded
SOURCE_PREFIX = "import:"


@dataclass
class ImportReport:
    """What an import read, wrote and refused; ``committed`` is False after a dry run or a stopped import."""

    path: str
    source: str
    dry_run: bool
    skip_bad_rows: bool
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    labelled: int = 0
    bad_row_count: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0

    @property
    def stopped(self) -> bool:
        """Bad rows stopped the import (nothing was written)."""
        return self.bad_row_count > 0 and not self.skip_bad_rows

    @property
    def skipped(self) -> int:
        return self.bad_row_count if self.skip_bad_rows else 0

    def add_bad_row(self, bad: BadRow) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < KEEP_BAD_ROWS:
            self.bad_rows.append(bad)

    def describe(self) -> str:
        name = Path(self.path).name
        if self.stopped:
            return (
                f"Imported nothing from {name}: {self.bad_row_count} of {self.rows_read} rows are bad "
                "(fix them, or pass --skip-bad-rows to import the rest)."
            )
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {name}: {self.rows_read} rows read, {self.inserted} new accounts, {self.updated} updated, "
            f"{self.skipped} bad rows skipped, {self.labelled} with a churn label; {self.seconds:.1f} s."
        )
        return text + (" Dry run: nothing was stored." if self.dry_run else "")

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "source": self.source,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "skipped": self.skipped,
            "bad_rows": self.bad_row_count,
            "labelled": self.labelled,
            "seconds": round(self.seconds, 2),
            "first_bad_rows": [bad.describe() for bad in self.bad_rows[:20]],
        }


def import_accounts(
    *,
    url: str,
    path: str | Path,
    mapping: ImportMapping | str | Path,
    skip_bad_rows: bool = False,
    dry_run: bool = False,
    progress: Progress = SILENT,
    today: date | None = None,
) -> ImportReport:
    """Upsert the file's accounts by account number; all or nothing unless ``skip_bad_rows``."""
    started = time.monotonic()
    mapping = mapping if isinstance(mapping, ImportMapping) else load_mapping(mapping)
    path = Path(path)
    report = ImportReport(str(path), (SOURCE_PREFIX + path.name)[:80], dry_run, skip_bad_rows)
    marker = datetime.now(UTC)
    with _open_csv(path, mapping) as (header, rows, bytes_read):
        converter = RowConverter(mapping, header, file_stem=path.stem, today=today or marker.date())
        update = [name for name in converter.written_fields() if name != "account_no"]
        update += ["extra", "source", "updated_at"] + (["churn_label"] if mapping.label else [])
        total = path.stat().st_size
        progress.stage("import", total=total, unit="B")
        shown = 0
        with AccountImportWriter(url, update_columns=update, marker=marker) as writer:
            chunk: list[AccountRow] = []
            for line, cells in rows:
                report.rows_read += 1
                result = converter.convert(line, cells)
                if isinstance(result, BadRow):
                    report.add_bad_row(result)
                else:
                    chunk.append(result)
                if len(chunk) >= CHUNK_ROWS:
                    _write_chunk(writer, chunk, report, mapping)
                    chunk = []
                if report.rows_read % CHUNK_ROWS == 0:
                    read = bytes_read()
                    progress.advance(read - shown, note=f"{report.rows_read:,} rows, {report.bad_row_count:,} bad")
                    shown = read
            _write_chunk(writer, chunk, report, mapping)
            progress.advance(total - shown)
            progress.done()
            if not (report.stopped or dry_run):
                writer.commit()
                report.committed = True
    report.seconds = time.monotonic() - started
    if report.committed:
        _after_commit(url, report)
    return report


def _write_chunk(
    writer: AccountImportWriter, chunk: list[AccountRow], report: ImportReport, mapping: ImportMapping
) -> None:
    """Upsert one chunk; an account number seen earlier in the file makes the later row bad."""
    if not chunk:
        return
    id_column = mapping.columns.get("account_no", "")
    known = writer.known(row.account_no for row in chunk)
    first_line: dict[str, int] = {}
    values: list[dict[str, Any]] = []
    for row in chunk:
        earlier = first_line.get(row.account_no)
        if earlier is not None or known.get(row.account_no):
            where = f"line {earlier}" if earlier is not None else "an earlier line"
            problem = RowProblem(id_column, row.account_no, f"repeats the account number of {where}")
            report.add_bad_row(BadRow(row.line, (problem,)))
            continue
        first_line[row.account_no] = row.line
        if row.account_no in known:
            report.updated += 1
        else:
            report.inserted += 1
        report.labelled += row.churn_label is not None
        values.append({**row.fields, "extra": row.extra, "churn_label": row.churn_label, "source": report.source})
    writer.upsert(values)


def _after_commit(url: str, report: ImportReport) -> None:
    refresh_account_statistics(url)
    with session_scope(url) as session:
        record_event(
            session=session,
            action="accounts_imported",
            actor_name="import",
            entity_type="import",
            entity_id=Path(report.path).name[:80],
            after={k: v for k, v in report.summary().items() if k != "first_bad_rows"},
            detail=report.describe(),
        )


Rows = Iterator[tuple[int, list[str]]]


@contextmanager
def _open_csv(path: Path, mapping: ImportMapping) -> Iterator[tuple[list[str], Rows, Callable[[], int]]]:
    """(header, rows as (line number, cells), bytes read so far) for a file, streamed."""
    options = mapping.csv
    try:
        raw = io.FileIO(path, "r")
    except FileNotFoundError:
        raise ImportFailed(f"The file {path} does not exist.") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a folder, not a CSV file.") from None
    except PermissionError:
        raise ImportFailed(f"The file {path} cannot be read (permission denied).") from None
    with raw, io.TextIOWrapper(io.BufferedReader(raw, 1 << 16), encoding=options.encoding, newline="") as text:
        for line in range(1, options.header_row):  # lines above the header (titles, export notes)
            _decoded(text.readline, path, options.encoding, line)
        reader = csv.reader(text, delimiter=options.delimiter)
        header_line = options.header_row
        header = _decoded(lambda: next(reader, None), path, options.encoding, header_line)
        if not header:
            raise ImportFailed(f"{path} has no header on line {header_line} (csv.header_row in the mapping).")
        offset = options.header_row - 1
        yield [name.strip("\ufeff") for name in header], _rows(reader, offset, path, options.encoding), raw.tell


def _rows(reader: Any, offset: int, path: Path, encoding: str) -> Rows:
    while True:
        line = reader.line_num + 1 + offset
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ImportFailed(_not_text(path, encoding, line)) from None
        except csv.Error as exc:
            raise ImportFailed(f"{path} line {line} cannot be read as CSV: {exc}.") from None
        if any(cell.strip() for cell in cells):  # blank lines are not rows
            yield line, cells


def _decoded(read: Callable[[], Any], path: Path, encoding: str, line: int) -> Any:
    try:
        return read()
    except UnicodeDecodeError:
        raise ImportFailed(_not_text(path, encoding, line)) from None
    except csv.Error as exc:
        raise ImportFailed(f"{path} line {line} cannot be read as CSV: {exc}.") from None


def _not_text(path: Path, encoding: str, line: int) -> str:
    shown = "utf-8" if encoding == "utf-8-sig" else encoding
    line = _first_undecodable_line(path, encoding) or line
    return f"{path} is not {shown} text (line {line}); set [csv] encoding in the mapping, e.g. 'cp1252'."


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The exact line of a decoding error (text is decoded in blocks, so the reader only knows roughly)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            try:
                decoder.decode(raw_line)
            except UnicodeDecodeError:
                return number
    return None
