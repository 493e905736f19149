"""`make serve`: the auditing service on the sample data, for a newcomer to click through.

Starts `auditor serve` on 127.0.0.1:8000 (PORT overrides) with its data in reports/serve-demo,
creates a token, submits four audits (the sample credit model, and three versions of a
credit decision log whose approval gap between the age groups widens, so the model page
has a trend and a regression to show), prints where to look, and runs until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from auditor.service.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "reports" / "serve-demo"
SAMPLE = ROOT / "sample_models"


def decision_log(version: int) -> bytes:
    """Recorded decisions on German credit; each version approves the young a little less."""
    frame = pd.read_csv(SAMPLE / "data" / "german_credit_audit.csv")
    rng = np.random.default_rng(version)
    young = frame["age_group"] != "25 and over"
    approve = np.where(young, 0.72 - 0.12 * version, 0.72)
    frame["decision"] = np.where(rng.random(len(frame)) < approve, 1, 2)
    return frame[["credit", "sex", "age_group", "decision"]].to_csv(index=False).encode()


def make_token() -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor.cli",
            "token",
            "create",
            "--scope",
            "admin",
            "--name",
            "make-serve",
            "--data-dir",
            str(DATA_DIR),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def submit(base: str, token: str, files: dict, form: dict) -> str:
    response = httpx.post(
        base + "/api/v1/audits",
        files=files,
        data=form,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def main() -> int:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    token = make_token()
    server = LiveServer(
        DATA_DIR,
        f"sqlite:///{DATA_DIR / 'auditor.db'}",
        workers=2,
        port=int(os.environ.get("PORT", "8000")),
        log_to_file=False,
    ).start()
    base = server.base_url
    common = {"target": "credit", "pos_label": "1", "sensitive": ["sex", "age_group"]}
    model = SAMPLE / "german_credit_model.skops"
    submit(
        base,
        token,
        {
            "data": (
                "german_credit_audit.csv",
                (SAMPLE / "data/german_credit_audit.csv").read_bytes(),
            ),
            "model": ("german_credit_model.skops", model.read_bytes()),
            "metadata": (
                "model_card.yaml",
                (SAMPLE / "german_credit_model_card.yaml").read_bytes(),
            ),
        },
        {**common, "model_name": "german-credit-sample", "model_version": "1.0"},
    )
    for version in (1, 2, 3):
        submit(
            base,
            token,
            {"data": (f"decisions-v{version}.csv", decision_log(version))},
            {
                **common,
                "prediction": "decision",
                "model_name": "credit-decisions",
                "model_version": f"2026.{version}",
            },
        )
    print(
        f"\nauditor serve is running at {base}/ui (API docs: {base}/docs)\n"
        f"Your admin token (shown once): {token}\n"
        "The browser asks for a user name and password: any name, and the token as password.\n"
        "Four sample audits are running; the model 'credit-decisions' shows a trend.\n"
        "Submit your own:\n"
        f"  curl -H 'Authorization: Bearer {token}' -F data=@decisions.csv -F target=credit \\\n"
        "       -F pos_label=1 -F prediction=decision -F sensitive=sex -F model_name=my-model \\\n"
        f"       {base}/api/v1/audits\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    assert server.process is not None
    # The server runs in its own session: Ctrl-C and a SIGTERM to this script must stop it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        return server.process.wait()
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
