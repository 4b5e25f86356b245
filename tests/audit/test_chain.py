"""Event validation: Guardline's own ids are recordable whatever digits they happen to hold."""

from __future__ import annotations

import pytest

from guardline.audit.chain import Event, InvalidAuditEvent, prepare


# Real random ids (secrets.token_hex) that the PII engine reads as phone numbers.
@pytest.mark.parametrize(
    "actor", ["key:045487621742", "kid:4218033959626962", "glc_139876543210000000000000"]
)
def test_random_credential_ids_with_digit_runs_are_recordable(actor: str) -> None:
    """Hex credential ids sometimes read like a phone number by chance (a flaky refusal the test suite
    found): they are ids, and their events must be recordable."""
    prepared = prepare(Event(action="auth.credential", actor_type="service", actor_id=actor, object_id=actor))
    assert prepared.actor_id == actor


@pytest.mark.parametrize("actor", ["13812345678", "key:13812345678", "user:13812345678"])
def test_a_phone_number_as_an_id_is_still_refused(actor: str) -> None:
    with pytest.raises(InvalidAuditEvent, match="looks like personal data"):
        prepare(Event(action="auth.credential", actor_type="service", actor_id=actor))


def test_ids_in_details_are_recordable_whatever_their_digits() -> None:
    """A UUID's digits can read as a phone number: a flaky refusal the suite found."""
    agent = "615ead6b-0796-4416-9535-b053fdbf6724"  # a real uuid4 the PII engine reads as a PHONE
    prepared = prepare(
        Event(action="case.assign", actor_type="staff", actor_id="x", details={"agent": agent})
    )
    assert prepared.details is not None
    assert agent in prepared.details
    with pytest.raises(InvalidAuditEvent, match=r"details\.note looks like personal data"):
        prepare(
            Event(action="case.assign", actor_type="staff", actor_id="x", details={"note": "13812345678"})
        )
