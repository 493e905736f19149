"""Data for the page tests: models, audits of every status, metric rows and artefact files.

``run_real_audits`` runs ``auditor audit`` twice on small decision logs made from the German
credit sample (a fair one that passes, then a biased one that fails), so the model page's
regressions section compares two real ``audit.json`` files. ``seed`` writes everything into a
migrated database and its data dir:

- ``credit-scoring``: five succeeded audits (v1.0 ... v1.4, one per day; v1.2 inconclusive with
  an undefined value; the age groups' reference group changes at v1.3; v1.3 and v1.4 carry the
  real audit.json and report.html), a failed job
  (timeout), a queued, a running and a canceled one;
- ``fraud-model``: two succeeded audits;
- a model with a hostile name, label, version and group key (``<script>...``).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.service.database import make_engine, session_factory, transaction
from auditor.service.db import Audit, AuditArtifact, AuditMetric, Model
from auditor.service.queries import as_utc
from auditor.service.settings import ServiceSettings
from auditor.service.storage import ARTIFACTS, artifact_path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "data" / "german_credit_audit.csv"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_LABEL = "<img src=x onerror=alert(1)>"
HOSTILE_GROUP = "<script>alert(2)</script>"
HOSTILE_REFERENCE = "<script>alert(3)</script>"
DAY0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)

DI = "fairness.favorable_rate:ratio_to_highest"
ACCURACY = "performance.accuracy"
TPR_GAP = "fairness.true_positive_rate:difference_to_reference"
SELECTION = "fairness.selection_rate"  # measured, no threshold: not a key metric
KEY_METRICS = (DI, TPR_GAP, ACCURACY)


@dataclass(frozen=True)
class RealAudits:
    """The out/ folders of two real `auditor audit` runs: base (passes), new (fails)."""

    base: Path
    new: Path


def run_real_audits(folder: Path) -> RealAudits:
    """Run the CLI twice on generated decision logs; exit 1 (policy failed) is expected."""
    data = pd.read_csv(SAMPLE, usecols=["credit", "sex", "age_group"])
    outs = []
    for name, rates in (("base", (0.7, 0.7)), ("new", (0.45, 0.8))):
        rng = np.random.default_rng(7 if name == "base" else 11)
        favourable = np.where(data["sex"] == "female", rates[0], rates[1])
        frame = data.assign(decision=np.where(rng.random(len(data)) < favourable, 1, 2))
        csv = folder / f"{name}.csv"
        frame.to_csv(csv, index=False)
        out = folder / f"out-{name}"
        argv = [sys.executable, "-m", "auditor.cli", "audit", "--data", str(csv)]
        argv += ["--target", "credit", "--pos-label", "1", "--prediction", "decision"]
        argv += ["--sensitive", "sex", "--sensitive", "age_group", "--out", str(out)]
        argv += ["--format", "json,html", "--quiet"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode not in (0, 1) or not (out / "audit.json").is_file():
            raise RuntimeError(f"auditor audit failed ({done.returncode}): {done.stderr[-2000:]}")
        outs.append(out)
    return RealAudits(base=outs[0], new=outs[1])


@dataclass
class Seeded:
    """Ids of what ``seed`` wrote, by role."""

    audits: dict[str, str] = field(default_factory=dict)  # e.g. "v1.4", "failed", "hostile"
    newest_first: list[str] = field(default_factory=list)  # every audit, as the list orders


def _judge(value: float | None, low: float | None, high: float | None) -> str:
    if value is None:
        return "insufficient_data"
    if (low is not None and value < low) or (high is not None and value > high):
        return "fail"
    return "pass"


# Per version: ratio to the highest group's favourable rate (None: undefined), accuracy, TPR gap.
# From v1.3 the under-25s have the highest rate: the age groups' reference changes there.
_DI = {
    "sex=female": (0.93, 0.88, 0.86, 0.90, 0.62),
    "sex=male": (1.0, 1.0, 1.0, 1.0, 1.0),
    "age_group=under 25": (0.84, 0.81, None, 1.0, 1.0),
    "age_group=25 and over": (1.0, 1.0, 1.0, 0.95, 0.78),
}
_DI_REFERENCE = {
    "sex": ("sex=male",) * 5,
    "age_group": ("age_group=25 and over",) * 3 + ("age_group=under 25",) * 2,
}
_ACCURACY = (0.74, 0.75, 0.73, 0.71, 0.69)
_TPR_GAP = {"sex=female": (-0.03, -0.05, 0.02, -0.06, -0.14), "sex=male": (0.0,) * 5}
_VERDICTS = ("pass", "pass", "inconclusive", "pass", "fail")


def _metric_rows(model: Model, audit: Audit, i: int) -> list[AuditMetric]:
    rows = []

    def add(
        metric: str,
        group: str,
        value: float | None,
        ci: float | None,
        bounds: tuple[float | None, float | None],
        reference: str | None = None,
    ) -> None:
        low, high = bounds
        judged = low is not None or high is not None
        rows.append(
            AuditMetric(
                audit_id=audit.id,
                model_id=model.id,
                created_at=audit.created_at,
                metric=metric,
                group_key=group,
                value=value,
                ci_low=None if value is None or ci is None else value - ci,
                ci_high=None if value is None or ci is None else value + ci,
                n=200,
                verdict=_judge(value, low, high) if judged else None,
                threshold_min=low,
                threshold_max=high,
                reference_group=reference,
            )
        )

    for group, values in _DI.items():
        ci = None if values[i] == 1.0 else 0.06
        reference = _DI_REFERENCE[group.partition("=")[0]][i]
        add(DI, group, values[i], ci, (0.8, None), reference)
    add(ACCURACY, "", _ACCURACY[i], 0.02, (0.7, None))
    for group, values in _TPR_GAP.items():
        ci = None if group == "sex=male" else 0.04
        add(TPR_GAP, group, values[i], ci, (-0.1, 0.1), "sex=male")
    add(SELECTION, "sex=female", 0.5 + 0.01 * i, None, (None, None))
    return rows


def _write_artifact(settings: ServiceSettings, audit: Audit, name: str, content: bytes) -> None:
    path = artifact_path(settings.audits_dir, audit.id, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    audit.artifacts.append(
        AuditArtifact(
            name=name,
            media_type=ARTIFACTS[name],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            relpath=f"out/{name}",
        )
    )


def _audit(model: Model, day: float, **fields: object) -> Audit:
    created = DAY0 + timedelta(days=day)
    values: dict[str, object] = {
        "model_id": model.id,
        "policy_name": "default",
        "data_sha256": hashlib.sha256(f"data-{day}".encode()).hexdigest(),
        "params": {"prediction": "decision", "target": "credit"},
        "engine_version": "0.1.0",
        "created_at": created,
        "status": "succeeded",
        "started_at": created + timedelta(seconds=2),
        "finished_at": created + timedelta(seconds=49),
        "attempts": 1,
    }
    values.update(fields)
    return Audit(**values)


def seed(settings: ServiceSettings, real: RealAudits) -> Seeded:
    """Write the models, audits, metric rows and artefact files; returns their ids."""
    engine = make_engine(settings.url)
    seeded = Seeded()
    try:
        with transaction(session_factory(engine)) as session:
            credit, fraud = Model(name="credit-scoring"), Model(name="fraud-model")
            hostile = Model(name=HOSTILE)
            session.add_all([credit, fraud, hostile])
            session.flush()
            for i, verdict in enumerate(_VERDICTS):
                version = f"v1.{i}"
                audit = _audit(
                    credit,
                    i,
                    model_version=version,
                    label="nightly" if i % 2 else "release candidate",
                    verdict=verdict,
                    checks=12,
                    failed=1 if verdict == "fail" else 0,
                    inconclusive=1 if verdict == "inconclusive" else 0,
                )
                session.add(audit)
                session.flush()
                session.add_all(_metric_rows(credit, audit, i))
                out = {3: real.base, 4: real.new}.get(i)
                if out is not None:
                    for name in ("audit.json", "report.html"):
                        _write_artifact(settings, audit, name, (out / name).read_bytes())
                _write_artifact(settings, audit, "summary.md", f"# {version}\n".encode())
                seeded.audits[version] = audit.id
            extra = {
                "failed": _audit(
                    credit,
                    5,
                    model_version="v1.5",
                    status="failed",
                    error_type="timeout",
                    error_detail="The audit ran longer than 1800 s and was stopped.",
                    exit_code=None,
                ),
                "canceled": _audit(credit, 5.1, model_version="v1.6", status="canceled"),
                "running": _audit(credit, 5.2, model_version="v1.7", status="running"),
                "queued": _audit(
                    credit, 5.3, model_version="v1.8", status="queued", started_at=None
                ),
                "fraud-1": _audit(fraud, 1.5, model_version="2024.12", verdict="pass"),
                "fraud-2": _audit(fraud, 2.5, model_version="2025.01", verdict="fail"),
                "hostile": _audit(
                    hostile,
                    0.5,
                    model_version="<b>bold</b>",
                    label=HOSTILE_LABEL,
                    verdict="fail",
                    error_detail=None,
                ),
            }
            for key, audit in extra.items():
                if audit.status in ("queued", "running"):
                    audit.finished_at = None
                session.add(audit)
                session.flush()
                seeded.audits[key] = audit.id
            h = extra["hostile"]
            session.add(
                AuditMetric(
                    audit_id=h.id,
                    model_id=hostile.id,
                    created_at=h.created_at,
                    metric=DI,
                    group_key=HOSTILE_GROUP,
                    value=0.7,
                    ci_low=0.6,
                    ci_high=0.8,
                    verdict="fail",
                    threshold_min=0.8,
                    reference_group=HOSTILE_REFERENCE,
                )
            )
            _write_artifact(settings, h, "summary.md", f"# {HOSTILE}\n".encode())
            all_audits = session.query(Audit).all()
            ordered = sorted(all_audits, key=lambda a: a.id)
            ordered.sort(key=lambda a: as_utc(a.created_at), reverse=True)
            seeded.newest_first = [a.id for a in ordered]
    finally:
        engine.dispose()
    return seeded
