"""A realistic AuditRecord built directly from the pydantic models (no audit is run).

Two attributes, ``sex`` and ``age_group``, and their intersection; one intersection group has
no actual positives (undefined true positive rate); findings that fail, pass and have
insufficient data; a performance check. Hostile strings sit in a column name, a group value
and a file path, to prove the renderers escape them.
"""

from __future__ import annotations

import math

import pytest

from auditor.results import (
    AuditRecord,
    AuditSetup,
    CheckResult,
    Finding,
    GroupRow,
    GroupTable,
    MetricCell,
    ModelInfo,
    PolicySummary,
    Provenance,
    Reason,
    Summary,
    Value,
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=file:///etc/passwd>"
UNDEFINED_GROUP = "sex=female & age_group=>45"
MIN_N = 30
RATES = {  # name -> (numerator cells, denominator cells, reason when 0/0)
    "selection_rate": (("tp", "fp"), ("tp", "fp", "fn", "tn"), Reason.EMPTY_GROUP),
    "favorable_rate": (("tp", "fp"), ("tp", "fp", "fn", "tn"), Reason.EMPTY_GROUP),
    "base_rate": (("tp", "fn"), ("tp", "fp", "fn", "tn"), Reason.EMPTY_GROUP),
    "true_positive_rate": (("tp",), ("tp", "fn"), Reason.NO_POSITIVES),
    "false_positive_rate": (("fp",), ("fp", "tn"), Reason.NO_NEGATIVES),
    "precision": (("tp",), ("tp", "fp"), Reason.NO_PREDICTED_POSITIVES),
    "accuracy": (("tp", "tn"), ("tp", "fp", "fn", "tn"), Reason.EMPTY_GROUP),
}


def wilson(k: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """Wilson interval, good enough for fixture data."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(counts: dict[str, float], name: str) -> Value:
    num_cells, den_cells, reason = RATES[name]
    num = sum(counts[c] for c in num_cells)
    den = sum(counts[c] for c in den_cells)
    if den == 0:
        return Value(value=None, reason=reason)
    low, high = wilson(num, den)
    return Value(value=num / den, ci_low=low, ci_high=high)


def make_table(
    attribute: str, groups: dict[str, tuple[int, int, int, int]], reference: str
) -> GroupTable:
    """A group table from (tp, fp, fn, tn) per group, with disparities and summaries."""
    counts = {
        g: dict(zip(("tp", "fp", "fn", "tn"), map(float, c), strict=True))
        for g, c in groups.items()
    }
    values = {g: {m: _rate(c, m) for m in RATES} for g, c in counts.items()}
    rows, summaries = [], {}
    for metric in RATES:
        eligible: dict[str, float] = {}
        for g, v in values.items():
            rate = v[metric].value
            if rate is not None and sum(counts[g].values()) >= MIN_N:
                eligible[g] = rate
        excluded = {
            g: (
                Reason.BELOW_MIN_GROUP_SIZE if sum(counts[g].values()) < MIN_N else RATES[metric][2]
            )
            for g in values
            if g not in eligible
        }
        low, high = min(eligible.values()), max(eligible.values())
        summaries[metric] = Summary(
            min_max_ratio=Value(value=low / high),
            max_abs_difference=Value(value=high - low),
            groups_compared=list(eligible),
            groups_excluded=excluded,
        )
    highest = {m: max(v[m].value or 0.0 for v in values.values()) for m in RATES}
    for group, metric_values in values.items():
        cells = {}
        for metric, value in metric_values.items():
            ref = values[reference][metric].value
            own = value.value
            if own is None:
                undefined = Value(value=None, reason=value.reason)
                cells[metric] = MetricCell(
                    value=value,
                    difference_to_reference=undefined,
                    ratio_to_reference=undefined,
                    ratio_to_highest=undefined,
                )
                continue
            assert ref is not None
            cells[metric] = MetricCell(
                value=value,
                difference_to_reference=Value(value=own - ref),
                ratio_to_reference=Value(value=own / ref),
                ratio_to_highest=Value(value=own / highest[metric]),
            )
        labels = dict(part.split("=", 1) for part in group.split(" & "))
        n = int(sum(counts[group].values()))
        rows.append(GroupRow(group=group, labels=labels, n=n, counts=counts[group], metrics=cells))
    return GroupTable(
        attribute=attribute,
        columns=attribute.split(" & "),
        reference=reference,
        reference_rule="largest_group",
        rows=rows,
        summaries=summaries,
    )


def _finding(
    rule: str,
    check: str,
    measure: str,
    attribute: str | None,
    group: str | None,
    value: float | None,
    verdict: str,
    *,
    n: int | None,
    severity: str = "error",
    threshold: dict[str, float] | None = None,
    reason: Reason | None = None,
) -> Finding:
    threshold = threshold or {"min": 0.8}
    text = " and ".join(
        {"min": f"≥ {v:g}", "max": f"≤ {v:g}", "max_abs": f"|x| ≤ {v:g}"}[k]
        for k, v in threshold.items()
    )
    shown = "undefined" if value is None else f"{value:.3f}"
    return Finding.model_validate(
        {
            "rule_id": rule,
            "check": check,
            "measure": measure,
            "attribute": attribute,
            "group": group,
            "value": value,
            "threshold": threshold,
            "threshold_text": text,
            "n": n,
            "severity": severity,
            "verdict": verdict,
            "reason": reason,
            "message": f"{group or attribute or 'overall'}: {measure} = {shown}, {text}",
        }
    )


def make_result(extra_table: GroupTable | None = None) -> AuditRecord:
    """The fixture audit; ``extra_table`` adds one more fairness table (e.g. 300 groups)."""
    sex = make_table(
        "sex", {"sex=male": (190, 70, 60, 292), "sex=female": (95, 32, 61, 200)}, "sex=male"
    )
    age = make_table(
        "age_group",
        {
            "age_group=25-45": (160, 55, 50, 255),
            "age_group=<25": (40, 18, 35, 110),
            "age_group=>45": (85, 29, 36, 117),
            f"age_group={IMG}": (2, 0, 1, 2),
        },
        "age_group=25-45",
    )
    both = make_table(
        "sex & age_group",
        {
            "sex=male & age_group=25-45": (100, 35, 30, 160),
            "sex=female & age_group=25-45": (60, 20, 20, 95),
            "sex=male & age_group=<25": (25, 10, 20, 60),
            "sex=female & age_group=<25": (15, 8, 15, 50),
            "sex=male & age_group=>45": (65, 25, 10, 72),
            UNDEFINED_GROUP: (0, 4, 0, 40),
        },
        "sex=male & age_group=25-45",
    )
    tables = [sex, age, both] + ([extra_table] if extra_table is not None else [])
    sr = "fairness.selection_rate"
    findings = [
        _finding(
            "adverse-impact", sr, "ratio_to_reference", "sex", "sex=female", 0.767, "fail", n=388
        ),
        _finding(
            "adverse-impact",
            sr,
            "ratio_to_reference",
            "age_group",
            "age_group=<25",
            0.705,
            "fail",
            n=203,
        ),
        _finding(
            "adverse-impact",
            sr,
            "ratio_to_reference",
            "age_group",
            "age_group=>45",
            0.959,
            "pass",
            n=267,
        ),
        _finding(
            "adverse-impact",
            sr,
            "ratio_to_reference",
            "age_group",
            f"age_group={IMG}",
            None,
            "insufficient_data",
            n=5,
            reason=Reason.BELOW_MIN_GROUP_SIZE,
        ),
        _finding(
            "equal-opportunity",
            "fairness.true_positive_rate",
            "difference_to_reference",
            "sex & age_group",
            UNDEFINED_GROUP,
            None,
            "insufficient_data",
            n=44,
            severity="warning",
            threshold={"max_abs": 0.1},
            reason=Reason.NO_POSITIVES,
        ),
        _finding(
            "equal-opportunity",
            "fairness.true_positive_rate",
            "difference_to_reference",
            "sex",
            "sex=female",
            -0.149,
            "fail",
            n=388,
            severity="warning",
            threshold={"max_abs": 0.1},
        ),
        _finding(
            "min-accuracy",
            "performance.accuracy",
            "value",
            None,
            None,
            0.777,
            "pass",
            n=1000,
            threshold={"min": 0.7},
        ),
    ]
    performance = CheckResult(
        family="performance",
        status="ok",
        overall={
            "n": Value(value=1000.0),
            "accuracy": Value(value=0.777, ci_low=0.750, ci_high=0.802),
            "selection_rate": Value(value=0.387, ci_low=0.357, ci_high=0.418),
            "negative_predictive_value": Value(value=None, reason=Reason.NO_PREDICTED_NEGATIVES),
        },
    )
    rules: list[dict[str, object]] = [
        {
            "id": "adverse-impact",
            "check": sr,
            "measure": "ratio_to_reference",
            "threshold": {"min": 0.8},
            "severity": "error",
            "rationale": "Selection rate of any group below 80% of the reference group's.",
            "references": ["29 CFR 1607.4(D)"],
        },
        {
            "id": "equal-opportunity",
            "check": "fairness.true_positive_rate",
            "measure": "difference_to_reference",
            "threshold": {"max_abs": 0.1},
            "severity": "warning",
            "rationale": "Qualified people are approved at similar rates.",
            "references": [],
        },
        {
            "id": "min-accuracy",
            "check": "performance.accuracy",
            "measure": "value",
            "threshold": {"min": 0.7},
            "severity": "error",
            "rationale": "",
            "references": [],
        },
    ]
    return AuditRecord(
        verdict="failed",
        fail_on="error",
        setup=AuditSetup(
            mode="model",
            data_path=f"data/{SCRIPT}/credit.csv",
            rows=1000,
            target="credit_risk",
            prediction=None,
            score=None,
            weight=None,
            sensitive=["sex", "age_group"],
            pos_label="1",
            other_label="0",
            positive_outcome="favorable",
            missing_as_group=True,
            model=ModelInfo(
                path="sample_models/german_credit_model.skops",
                format="skops",
                class_name="sklearn.pipeline.Pipeline",
                pickle_loaded=True,
                threshold=0.5,
                features=["duration", "amount", SCRIPT, "installment_rate"],
            ),
            ignored_columns=[SCRIPT],
        ),
        policy=PolicySummary(
            name="four-fifths",
            description="EEOC adverse-impact rule of thumb",
            source="builtin:four-fifths",
            settings={"min_group_size": MIN_N, "confidence": 0.95, "bootstrap": 1000},
            rules=rules,
        ),
        checks=[CheckResult(family="fairness", status="ok", tables=tables), performance],
        findings=findings,
        notes=[f"Column {SCRIPT} was ignored: it is not a model feature."],
        provenance=Provenance(
            created="2026-03-01T09:30:00+00:00",
            tool_version="0.1.0",
            python="3.11.9",
            libraries={"numpy": "2.1.0", "scikit-learn": "1.6.1", "weasyprint": "70.0"},
            sha256={"data": "ab" * 32, "model": "cd" * 32, "policy": "ef" * 32},
            command=["auditor", "audit", "--data", "credit.csv", "--target", "credit_risk"],
            seed=0,
        ),
    )


def many_groups_table(count: int = 300) -> GroupTable:
    """An attribute with ``count`` groups (e.g. postcodes)."""
    groups = {
        f"postcode={i:05d}": (10 + i % 7, 5 + i % 5, 6 + i % 3, 20 + i % 11) for i in range(count)
    }
    return make_table("postcode", groups, "postcode=00000")


@pytest.fixture(scope="session")
def audit_result() -> AuditRecord:
    return make_result()
