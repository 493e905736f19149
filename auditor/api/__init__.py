"""The one audit entry point (``audit``) and how its verdict is reached."""

from auditor.api.entry import audit
from auditor.api.result import overall_verdict

__all__ = ["audit", "overall_verdict"]
