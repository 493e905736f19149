"""Train the sample credit model on the Statlog German Credit data and save it with skops.

Reproduces, byte for byte in content, the files committed beside this script:

- ``german_credit_model.skops``: a scikit-learn Pipeline (one-hot encoding of the categorical
  columns, scaling of the numeric ones, logistic regression) predicting ``credit``
  (1 = good credit risk, the favourable outcome: credit granted; 2 = bad);
- ``data/german_credit_audit.csv``: the 40 % hold-out rows the model never saw, with two
  sensitive columns derived for the audit: ``sex`` (from ``personal_status``, per the UCI
  codebook: A91, A93, A94 male; A92, A95 female) and ``age_group`` (under 25 / 25 and over).

Run: ``python sample_models/train_german_credit.py`` (``make sample-model``).
Data: UCI Machine Learning Repository, Statlog (German Credit Data), Hans Hofmann, CC BY 4.0;
see ``sample_models/data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
SEED = 20261128
NUMERIC = [
    "month",
    "credit_amount",
    "investment_as_income_percentage",
    "residence_since",
    "age",
    "number_of_credits",
    "people_liable_for",
]
FEMALE_CODES = {"A92", "A95"}


def load_raw() -> pd.DataFrame:
    """The UCI file as shipped, with the two derived sensitive columns added."""
    frame = pd.read_csv(HERE / "data" / "german_credit.csv")
    frame["sex"] = frame["personal_status"].map(lambda c: "female" if c in FEMALE_CODES else "male")
    frame["age_group"] = frame["age"].map(lambda a: "under 25" if a < 25 else "25 and over")
    return frame


def build_pipeline(categorical: list[str]) -> Pipeline:
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    return Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])


def main() -> None:
    frame = load_raw()
    features = [c for c in frame.columns if c not in ("credit", "sex", "age_group")]
    categorical = [c for c in features if c not in NUMERIC]
    train, audit = train_test_split(
        frame, test_size=0.4, random_state=SEED, stratify=frame["credit"]
    )
    model = build_pipeline(categorical).fit(train[features], train["credit"])
    sio.dump(model, HERE / "german_credit_model.skops")
    audit.to_csv(HERE / "data" / "german_credit_audit.csv", index=False)
    accuracy = (model.predict(audit[features]) == audit["credit"]).mean()
    print(f"trained on {len(train)} rows; hold-out accuracy {accuracy:.3f} on {len(audit)} rows")


if __name__ == "__main__":
    main()
