"""One error hierarchy for Guardline; every error carries the HTTP status it maps to.

    GuardlineError (500)
    ├── BadInput (400)          input that names a problem the caller can fix
    │   └── InvalidOperatorConfig (400)

Messages name the problem and the fix, never a personal value.
"""

from __future__ import annotations


class GuardlineError(Exception):
    status_code: int = 500

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code

    def to_dict(self) -> dict[str, str]:
        return {"error": type(self).__name__, "detail": self.message}


class BadInput(GuardlineError):
    status_code = 400


class InvalidOperatorConfig(BadInput):
    """A masking operator was given parameters it cannot use."""
