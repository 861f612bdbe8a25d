"""A run's batch jobs and records, kept in the store (tables `batch_jobs`, `batch_records`:
store/db.py migration 12), so that `batch status|wait|collect RUN` and `--resume` work from
any process and nothing is submitted twice.

A record's `asked` is what its Result needs besides the answer and its template (collect.py);
`answered` is its output line once collected ("" when its job wrote none).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptlab.errors import ConfigError, UsageError

CHUNK = 1000  # records written per transaction
# Page cache of the state's connection, KiB: records are read and updated by id in the order
# the service answers (random), so a cache holding a large run's index saves re-reading pages.
# A bound, not a growth: SQLite keeps at most this much.
CACHE_KIB = 32_768


@dataclass
class JobRow:
    run_id: str
    job_name: str
    model_alias: str
    model_id: str
    job_arn: str | None
    input_uri: str
    output_uri: str
    records: int
    status: str | None = None
    message: str | None = None
    submitted_ts: float | None = None
    collected_ts: float | None = None
    cleaned_ts: float | None = None
    processed: int | None = None  # as the service last reported (not stored)


class BatchState:
    """The batch tables of one store file (its own connection: safe beside the Store's)."""

    def __init__(self, path: Path) -> None:
        from promptlab.store.db import StoreError, connect

        try:
            self.con = connect(path)
        except StoreError as exc:
            hint = "batch inference keeps its jobs in the store; check store.path in promptlab.yaml"
            raise ConfigError(f"batch: {exc}", hint) from None
        self.con.execute(f"PRAGMA cache_size = -{CACHE_KIB}")

    def close(self) -> None:
        self.con.close()

    # ------------------------------------------------------------ runs and jobs

    def find_run(self, wanted: str) -> str:
        """A run id (or a unique prefix, or 'last') that has batch jobs."""
        from promptlab.store.core import find_run

        run_id = find_run(self.con, wanted)
        if not self.jobs(run_id):
            hint = "submit with `promptlab test --batch` or `promptlab run --batch`"
            raise UsageError(f"run {run_id} has no batch jobs", hint)
        return run_id

    def jobs(self, run_id: str) -> list[JobRow]:
        rows = self.con.execute(
            "SELECT * FROM batch_jobs WHERE run_id = ? ORDER BY model_alias, job_name", (run_id,)
        ).fetchall()
        return [JobRow(**dict(row)) for row in rows]

    def add_job(self, job: JobRow) -> None:
        self.con.execute(
            "INSERT OR IGNORE INTO batch_jobs(run_id, job_name, model_alias, model_id, job_arn, "
            "input_uri, output_uri, records, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job.run_id, job.job_name, job.model_alias, job.model_id, job.job_arn,
             job.input_uri, job.output_uri, job.records, job.status),
        )  # fmt: skip

    def submitted(self, job: JobRow, arn: str) -> None:
        job.job_arn, job.status, job.submitted_ts = arn, "Submitted", time.time()
        self.con.execute(
            "UPDATE batch_jobs SET job_arn = ?, status = ?, submitted_ts = ? "
            "WHERE run_id = ? AND job_name = ?",
            (arn, job.status, job.submitted_ts, job.run_id, job.job_name),
        )

    def set_status(self, job: JobRow, status: str, message: str) -> None:
        job.status, job.message = status, message
        self.con.execute(
            "UPDATE batch_jobs SET status = ?, message = ? WHERE run_id = ? AND job_name = ?",
            (status, message, job.run_id, job.job_name),
        )

    def mark(self, job: JobRow, column: str) -> None:
        """Set `collected_ts` or `cleaned_ts` to now."""
        assert column in ("collected_ts", "cleaned_ts")
        setattr(job, column, time.time())
        self.con.execute(
            f"UPDATE batch_jobs SET {column} = ? WHERE run_id = ? AND job_name = ?",
            (getattr(job, column), job.run_id, job.job_name),
        )

    # ------------------------------------------------------------ records

    def known_records(self, run_id: str) -> dict[str, str]:
        """record id → job name, for the run's submitted records."""
        return {
            row[0]: row[1]
            for row in self.con.execute(
                "SELECT record_id, job_name FROM batch_records WHERE run_id = ?", (run_id,)
            )
        }

    def add_records(self, run_id: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """(record id, job name, asked JSON) rows, written a chunk per transaction."""
        chunk: list[tuple[str, str, str, str]] = []
        for rid, job_name, asked in rows:
            chunk.append((run_id, rid, job_name, asked))
            if len(chunk) >= CHUNK:
                self._many("INSERT OR REPLACE INTO batch_records(run_id, record_id, job_name, "
                           "asked) VALUES (?, ?, ?, ?)", chunk)  # fmt: skip
                chunk = []
        if chunk:
            self._many("INSERT OR REPLACE INTO batch_records(run_id, record_id, job_name, asked) "
                       "VALUES (?, ?, ?, ?)", chunk)  # fmt: skip

    def _many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.con.execute("BEGIN IMMEDIATE")
        try:
            self.con.executemany(sql, rows)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def add_templates(self, run_id: str, forms: dict[str, dict[str, Any]]) -> None:
        rows = [(run_id, k, json.dumps(v, ensure_ascii=False)) for k, v in forms.items()]
        self._many("INSERT OR IGNORE INTO batch_templates(run_id, key, template) "
                   "VALUES (?, ?, ?)", rows)  # fmt: skip

    def templates(self, run_id: str) -> dict[str, dict[str, Any]]:
        rows = self.con.execute(
            "SELECT key, template FROM batch_templates WHERE run_id = ?", (run_id,)
        )
        return {key: json.loads(text) for key, text in rows}

    def asked(self, run_id: str, record_id: str) -> tuple[str, dict[str, Any]] | None:
        """(job name, asked) of one record, or None if the run has no such record."""
        row = self.con.execute(
            "SELECT job_name, asked FROM batch_records WHERE run_id = ? AND record_id = ?",
            (run_id, record_id),
        ).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def records(
        self, run_id: str, job_name: str, *, answered: bool | None = None
    ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """(record id, asked, output line or "" for none) of a job's records: all, or only
        those collected (answered=True) or not yet (False)."""
        where = {None: "", True: " AND answered IS NOT NULL", False: " AND answered IS NULL"}
        rows = self.con.execute(
            "SELECT record_id, asked, answered FROM batch_records WHERE run_id = ? AND "
            "job_name = ?" + where[answered], (run_id, job_name)).fetchall()  # fmt: skip
        for rid, asked, line in rows:
            yield rid, json.loads(asked), line

    def answer(self, run_id: str, answers: list[tuple[str, str]]) -> None:
        """Keep collected output lines (record id, line; "" for a record without one)."""
        self._many("UPDATE batch_records SET answered = ? WHERE run_id = ? AND record_id = ?",
                   [(line, run_id, rid) for rid, line in answers])  # fmt: skip

    def keep_test_args(self, run_id: str, args: list[str]) -> None:
        """The `test` arguments the run was first submitted with (kept: a resume adds none)."""
        self.con.execute("INSERT OR IGNORE INTO batch_test_args(run_id, args) VALUES (?, ?)",
                         (run_id, json.dumps(args, ensure_ascii=False)))  # fmt: skip

    def test_args(self, run_id: str) -> list[str] | None:
        """The `test` arguments of a run submitted by `promptlab test --batch`, or None."""
        row = self.con.execute(
            "SELECT args FROM batch_test_args WHERE run_id = ?", (run_id,)
        ).fetchone()
        return None if row is None else [str(a) for a in json.loads(row[0])]

    def run_command(self, run_id: str) -> str:
        row = self.con.execute("SELECT command FROM runs WHERE id = ?", (run_id,)).fetchone()
        return str(row[0]) if row is not None else "run"
