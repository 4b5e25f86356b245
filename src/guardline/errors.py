"""One error hierarchy for Guardline; every error carries the HTTP status it maps to.

    GuardlineError (500)
    ├── BadInput (400)              input that names a problem the caller can fix
    │   └── InvalidOperatorConfig (400)
    ├── Unauthorized (401)          no credential, or one that is unknown, expired or revoked
    │   └── MfaRequired (401)       the password was right; the account needs its second factor too
    ├── Forbidden (403)             a valid credential without the scope the operation needs
    │   └── MfaEnrolmentRequired    the role needs MFA and none is enrolled (carries an enrolment token)
    ├── NotFound (404)              no such object in the caller's tenant
    ├── Conflict (409)              the request contradicts stored state (duplicate id, wrong customer)
    ├── Gone (410)                  the object existed but was erased (crypto-shredded)
    ├── PayloadTooLarge (413)       refused before the body is read in full
    ├── TooManyRequests (429)       locked out or rate limited; carries Retry-After
    ├── KeyManagementError (500)    base of key-management failures
    │   ├── KeyUnavailable (503)    a key provider or key version cannot be reached or was destroyed
    │   └── DecryptionFailed (500)  opaque: wrong key, tampered or swapped ciphertext, wrong context
    ├── ConfigurationError (500)    settings that cannot work; the message names the setting
    └── InvalidAuditEvent (500)     an event Guardline built that the audit log refuses: a bug, answered
                                    without its message (audit/chain.py)

Messages name the problem and the fix, never a personal value.
"""

from __future__ import annotations


class GuardlineError(Exception):
    status_code: int = 500
    # Set by an endpoint that already wrote this refusal's own audit event (a login, a token request),
    # so the generic refusal record is not written a second time.
    audited: bool = False

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code

    def to_dict(self) -> dict[str, object]:
        return {"error": type(self).__name__, "detail": self.message}

    def headers(self) -> dict[str, str]:
        return {}


class BadInput(GuardlineError):
    status_code = 400


class InvalidOperatorConfig(BadInput):
    """A masking operator was given parameters it cannot use."""


class Unauthorized(GuardlineError):
    status_code = 401


class MfaRequired(Unauthorized):
    """The password was right; send the TOTP code (or a recovery code) too."""


class Forbidden(GuardlineError):
    status_code = 403


class MfaEnrolmentRequired(Forbidden):
    """The account's role needs a second factor and has none: the token lets it enrol one, only."""

    def __init__(self, message: str, *, enrolment_token: str) -> None:
        super().__init__(message)
        self.enrolment_token = enrolment_token

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "enrolment_token": self.enrolment_token}


class NotFound(GuardlineError):
    status_code = 404


class Conflict(GuardlineError):
    status_code = 409


class Gone(GuardlineError):
    status_code = 410


class PayloadTooLarge(GuardlineError):
    status_code = 413


class TooManyRequests(GuardlineError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class KeyManagementError(GuardlineError):
    """Base of key-management failures."""


class KeyUnavailable(KeyManagementError):
    status_code = 503


class DecryptionFailed(KeyManagementError):
    """Deliberately says nothing about why: wrong key, tampering and a swapped row look the same."""

    def __init__(
        self, message: str = "decryption failed: the ciphertext does not match its key and context"
    ) -> None:
        super().__init__(message)


class ConfigurationError(GuardlineError):
    status_code = 500
