"""One run's batch inference, start to end: plan, write and upload records, submit one job per
model (more above a job's quotas), wait with progress, collect the answers as Results.

The Runner hands it the calls no store answered (`runner.Runner(batch=...)`); `promptlab batch
status|wait|collect RUN` uses it from another process. Everything a later process needs is in
the store (state.py): nothing is submitted twice for a run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from promptlab.batch import collect, jobs, records
from promptlab.batch import s3 as objects
from promptlab.batch.collect import Templates
from promptlab.batch.plan import BatchPlan, Call, ModelBatch, plan, record_problem
from promptlab.batch.shapes import join_s3, split_s3
from promptlab.batch.state import BatchState, JobRow
from promptlab.catalogue import ModelRef
from promptlab.config import Config
from promptlab.errors import UsageError
from promptlab.request import Request
from promptlab.results import Result

ANSWER_CHUNK = 500  # collected Results written to the store per transaction
Progress = Callable[[list[JobRow], float], None]


def job_name(run_id: str, alias: str, part: int) -> str:
    """`promptlab-<run id>-<model>-<part>`: at most 63 characters, as CreateModelInvocationJob
    takes; `nameContains=<run id>` finds a run's jobs."""
    tail = f"-{part}"
    room = 63 - len("promptlab-") - len(run_id) - 1 - len(tail)
    return f"promptlab-{run_id}-{records.safe_stem(alias)[:room].strip('-')}{tail}"


@dataclass
class Settings:
    """Where and how: the S3 location, role and key (config `batch:` with --s3 / --role-arn)."""

    s3: str
    role_arn: str
    kms_key: str | None
    poll_seconds: float
    timeout_hours: int

    @classmethod
    def of(cls, config: Config) -> Settings:
        batch = config.batch
        missing = [name for name, value in (("--s3 (batch.s3)", batch.s3),
                                            ("--role-arn (batch.role_arn)", batch.role_arn))
                   if not value]  # fmt: skip
        if missing:
            raise UsageError(f"batch inference needs {' and '.join(missing)}",
                             "set batch: {s3: s3://BUCKET/PREFIX, role_arn: arn:aws:iam::ACCOUNT:"
                             "role/NAME} in promptlab.yaml, or pass the options; see the "
                             "README's Batch inference for the role")  # fmt: skip
        assert batch.s3 and batch.role_arn
        return cls(batch.s3, batch.role_arn, batch.kms_key, batch.poll_seconds,
                   batch.timeout_hours)  # fmt: skip


class BatchRun:
    """A run's batch jobs. `mode`: "on" (--batch), "auto" (--batch=auto)."""

    def __init__(
        self,
        config: Config,
        run_id: str,
        *,
        mode: str = "on",
        wait: bool = True,
        cleanup: bool = False,
        region: str | None = None,
        profile: str | None = None,
        progress: Progress | None = None,
        record: Callable[[Result, dict[str, Any] | None], None] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.run_id = run_id
        self.mode = mode
        self.wait_for_jobs = wait
        self.cleanup = cleanup
        self.region, self.profile = region, profile
        self.progress = progress or (lambda rows, elapsed: None)
        self.record = record or (lambda result, extra: None)
        self.state = BatchState(config.store_path)
        self._aws: Any = None
        self.notices: list[str] = []  # why calls run online, also told to `notify` at once
        self.notify = notify or (lambda note: None)
        self.submitted: list[JobRow] = []  # jobs this process created
        self.held = 0  # calls the run's earlier jobs held (a resumed run): collected, not sent
        self.may_submit = True  # False: collect the run's jobs only (`batch collect RUN`)
        self._spools: dict[ModelRef, Path] = {}  # each model's records, written by split()

    def close(self) -> None:
        self.state.close()

    # ------------------------------------------------------------ AWS

    def _clients(self) -> Any:
        if self._aws is None:
            from promptlab.aws import AwsClients

            self._aws = AwsClients(self.config, self.region, self.profile)
        return self._aws

    @property
    def s3(self) -> Any:
        return self._clients().client("s3")

    @property
    def bedrock(self) -> Any:
        return self._clients().control

    # ------------------------------------------------------------ planning

    def split(self, calls: Sequence[Call]) -> tuple[BatchPlan, list[Call]]:
        """The plan for the calls no job of this run holds yet, and the calls one does (a
        resumed run: they are collected from their jobs, never submitted again)."""
        known = self.state.known_records(self.run_id)
        fresh: list[Call] = []
        held: list[Call] = []
        folder = records.scratch_dir(self.config.root, self.run_id)
        spools: dict[ModelRef, IO[bytes]] = {}
        try:
            for call in calls:
                job = call.job
                if record_problem(job, call.request) is not None:
                    fresh.append(call)  # runs online (plan says why)
                    continue
                body = records.body_json(call.request.to_converse())
                call.record_id = records.record_id(job.prompt.name, job.prompt.content_hash,
                                                   job.case, job.ref.model_id, job.repeat_index,
                                                   call.region, body)  # fmt: skip
                if call.record_id in known:
                    held.append(call)
                    continue
                fresh.append(call)
                if job.ref not in spools:  # the lines, written now: no body is held
                    path = folder / f"spool-{len(spools) + 1}.jsonl"
                    self._spools[job.ref] = path
                    spools[job.ref] = open(path, "wb")  # noqa: SIM115 - closed below
                spools[job.ref].write(records.record_line(call.record_id, body))
        finally:
            for spool in spools.values():
                spool.close()
        self.held = len(held)
        planned = plan(fresh, self.mode, self.config)
        batched = {b.ref for b in planned.batches}
        for ref, path in list(self._spools.items()):
            if ref not in batched:
                path.unlink(missing_ok=True)
                del self._spools[ref]
        self.notices.extend(planned.notices)
        for note in planned.notices:
            self.notify(note)
        return planned, held

    # ------------------------------------------------------------ submitting

    def submit(self, planned: BatchPlan) -> list[JobRow]:
        """Write, upload and submit each model's records; the jobs made. The settings and the
        bucket are checked first: a bad one is one ConfigError before any upload."""
        if not planned.batches:
            return []
        if not self.may_submit:
            missing = sum(len(b.calls) for b in planned.batches)
            raise UsageError(f"run {self.run_id}: its batch jobs hold no record for {missing} of "
                             "the calls (the suite or its prompts changed since it was "
                             "submitted); nothing was submitted",
                             "collect from the commit the run was submitted from, or submit "
                             "anew with `promptlab test --batch`")  # fmt: skip
        settings = Settings.of(self.config)
        objects.check_bucket(self.s3, settings.s3)
        for batch in planned.batches:
            self.submitted.extend(self._submit_model(batch, settings))
        return self.submitted

    def _submit_model(self, batch: ModelBatch, settings: Settings) -> list[JobRow]:
        bucket, prefix = split_s3(settings.s3)
        folder = records.scratch_dir(self.config.root, self.run_id)
        stem = records.safe_stem(batch.ref.alias)
        parts: dict[int, records.Part] = {}

        forms: dict[str, dict[str, Any]] = {}
        memo: dict[tuple[Any, ...], str] = {}
        spool = self._spools.pop(batch.ref)
        bodies: list[bytes] = []  # the body of the line just written (one at a time)

        def lines() -> Iterator[tuple[str, bytes]]:
            with open(spool, "rb") as lines:
                for call, line in zip(batch.calls, lines, strict=True):
                    bodies[:] = [records.body_of(line)]
                    yield call.record_id, line

        def asked() -> Iterator[tuple[str, str, str]]:
            calls = iter(batch.calls)
            for part, rid in records.write_parts(lines(), folder, stem, batch.quotas):
                parts[part.number] = part
                call = next(calls)
                key = collect.template_key(call, memo)
                if key not in forms:
                    forms[key] = collect.template(call, self.run_id)
                name = job_name(self.run_id, batch.ref.alias, part.number)
                yield rid, name, collect.asked(call, key, bodies[0])

        self.state.add_records(self.run_id, asked())
        self.state.add_templates(self.run_id, forms)
        spool.unlink(missing_ok=True)
        made: list[JobRow] = []
        for number, part in sorted(parts.items()):
            name = job_name(self.run_id, batch.ref.alias, number)
            row = JobRow(self.run_id, name, batch.ref.alias, batch.ref.model_id, None,
                         join_s3(bucket, prefix, self.run_id, "input", part.path.name),
                         join_s3(bucket, prefix, self.run_id, "output", name) + "/",
                         part.records, "Uploading")  # fmt: skip
            self.state.add_job(row)
            objects.upload(self.s3, part.path, row.input_uri, settings.kms_key)
            part.path.unlink(missing_ok=True)
            self._create(row, settings)
            made.append(row)
        return made

    def _create(self, row: JobRow, settings: Settings) -> None:
        arn = jobs.find(self.bedrock, row.job_name) if row.status == "Uploading" else None
        if arn is None:
            arn = jobs.create(self.bedrock, name=row.job_name, role_arn=settings.role_arn,
                              model_id=row.model_id, input_uri=row.input_uri,
                              output_uri=row.output_uri, kms_key=settings.kms_key,
                              timeout_hours=settings.timeout_hours)  # fmt: skip
        self.state.submitted(row, arn)

    def resume_unsubmitted(self) -> None:
        """Jobs recorded but never created (a process cut short between upload and submit):
        found by name if the service has them, else created now."""
        pending = [r for r in self.state.jobs(self.run_id) if r.job_arn is None]
        if pending:
            settings = Settings.of(self.config)
            for row in pending:
                self._create(row, settings)

    # ------------------------------------------------------------ waiting

    def refresh(self) -> list[JobRow]:
        """Every job of the run with its status now (asked of the service unless finished)."""
        rows = self.state.jobs(self.run_id)
        for row in rows:
            if row.job_arn is None or row.status in jobs.TERMINAL:
                continue
            now = jobs.status(self.bedrock, row.job_arn)
            row.processed = now.processed
            if now.status != row.status or now.message != (row.message or ""):
                self.state.set_status(row, now.status, now.message)
        return rows

    def wait(self) -> list[JobRow]:
        """Poll until every job has ended, reporting progress; Ctrl-C leaves them running."""
        self.resume_unsubmitted()
        started = time.monotonic()
        poll = self.config.batch.poll_seconds
        while True:
            rows = self.refresh()
            self.progress(rows, time.monotonic() - started)
            if all(r.status in jobs.TERMINAL for r in rows):
                return rows
            time.sleep(poll)

    # ------------------------------------------------------------ collecting

    def collect(self) -> Iterator[tuple[str, Result]]:
        """(record id, Result) for every record of the run's ended jobs: collected now from
        S3 (recorded in the history once), or as collected before (from the store)."""
        templates = Templates(self.state.templates(self.run_id))
        for row in self.state.jobs(self.run_id):
            if row.status not in jobs.TERMINAL:
                continue
            if row.collected_ts is None:
                yield from self._collect_job(row, templates)
            else:
                for rid, record, line in self.state.records(self.run_id, row.job_name):
                    yield rid, self._result(templates, row, record, line)
            if self.cleanup and row.cleaned_ts is None:
                self._clean(row)

    def _result(
        self, templates: Templates, row: JobRow, record: dict[str, Any], line: str | None
    ) -> Result:
        if line:
            return collect.answered(templates, record, json.loads(line), self.config)
        return collect.unanswered(templates, record, row.job_name, row.status or "",
                                  row.message or "")  # fmt: skip

    def _collect_job(self, row: JobRow, templates: Templates) -> Iterator[tuple[str, Result]]:
        """Stream the job's output files, one line at a time, joined by record id; then the
        records it wrote nothing for. Output lines are kept in the store as they come."""
        kept: list[tuple[str, str]] = []

        def keep(rid: str, line: str, result: Result) -> Result:
            self.record(result, None)
            kept.append((rid, line))
            if len(kept) >= ANSWER_CHUNK:
                self.state.answer(self.run_id, kept)
                kept.clear()
            return result

        for uri in objects.output_files(self.s3, row.output_uri):
            for raw, line in records.iter_jsonl(objects.lines(self.s3, uri)):
                rid = str(line.get("recordId") or "")
                found = self.state.asked(self.run_id, rid)
                if found is None or found[0] != row.job_name:
                    continue  # not this run's record (or a line without an id)
                result = collect.answered(templates, found[1], line, self.config)
                yield rid, keep(rid, raw.decode("utf-8", "surrogatepass"), result)
        self.state.answer(self.run_id, kept)
        kept.clear()
        for rid, record, _ in self.state.records(self.run_id, row.job_name, answered=False):
            yield rid, keep(rid, "", self._result(templates, row, record, None))
        self.state.answer(self.run_id, kept)
        self.state.mark(row, "collected_ts")

    def _clean(self, row: JobRow) -> None:
        objects.remove(self.s3, row.input_uri, prefix=False)
        objects.remove(self.s3, row.output_uri, prefix=True)
        self.state.mark(row, "cleaned_ts")

    def stop(self) -> list[JobRow]:
        """Stop the run's jobs that are still running."""
        rows = self.refresh()
        for row in rows:
            if row.job_arn and row.status not in jobs.TERMINAL:
                jobs.stop(self.bedrock, row.job_arn)
        return rows


def store_recorder(store: Any) -> Callable[[Result, dict[str, Any] | None], None]:
    """Record a collected Result in the history (its key comes from the Result's request)."""

    def record(result: Result, extra: dict[str, Any] | None) -> None:
        if store is not None:
            store.record(result, Request(), extra)

    return record
