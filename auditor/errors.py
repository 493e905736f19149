"""The exception tree of auditor, and the exit code each one maps to.

::

    AuditorError                  any error auditor raises on purpose          exit 70
    ├── UsageError                bad command-line options or combinations     exit 2
    ├── PolicyError               a policy file that cannot be read or is invalid  exit 2
    ├── InputError                data or model rejected                       exit 3
    │   └── PickleRefusedError    a pickle/joblib model without --allow-pickle exit 3
    └── InconclusiveError         insufficient data where the policy blocks    exit 4

The CLI catches :class:`AuditorError` only, prints ``Type: message`` and exits with
``exit_code``. Anything else is a bug and exits 70 ("internal error"), never 0.
"""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INCONCLUSIVE = 4
EXIT_INTERNAL = 70


class AuditorWarning(UserWarning):
    """A warning auditor emits itself (the test suite turns these into errors)."""


class AuditorError(Exception):
    """Base of every error auditor raises on purpose."""

    exit_code = EXIT_INTERNAL


class UsageError(AuditorError):
    """Options that do not fit together, or a value a flag cannot take."""

    exit_code = EXIT_USAGE


class PolicyError(AuditorError):
    """A policy file that cannot be read, parsed or validated."""

    exit_code = EXIT_USAGE


class InputError(AuditorError):
    """Data or a model that cannot be audited as given."""

    exit_code = EXIT_INPUT


class PickleRefusedError(InputError):
    """A pickle or joblib model file, refused unless the user opts in."""


class InconclusiveError(AuditorError):
    """Too little data to decide, where the policy says that blocks."""

    exit_code = EXIT_INCONCLUSIVE
