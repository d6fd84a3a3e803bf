"""Signed reply addresses and status tokens: ours round-trip, tampered ones never match."""

import pytest

from shared.signing import ref_from_reply_address, reply_address, status_token, token_hash

SECRET = "install-secret"
INTAKE = "records@worcester-ma.example"
REF = "WOR-2026-000042"


def test_reply_address_round_trips_to_the_reference() -> None:
    address = reply_address(SECRET, INTAKE, REF)
    assert address.startswith("records+wor-2026-000042.")
    assert address.endswith("@worcester-ma.example")
    assert ref_from_reply_address(SECRET, address) == REF


def test_reply_address_still_matches_when_a_mail_client_uppercases_it() -> None:
    assert ref_from_reply_address(SECRET, reply_address(SECRET, INTAKE, REF).upper()) == REF


def _tamper_signature(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"


@pytest.mark.parametrize(
    "address",
    [
        pytest.param(_tamper_signature(reply_address(SECRET, INTAKE, REF)), id="tampered-signature"),
        pytest.param(reply_address(SECRET, INTAKE, REF).replace("000042", "000043"), id="changed-reference"),
        pytest.param(reply_address("another-install", INTAKE, REF), id="other-secret"),
        pytest.param("records+wor-2026-000042@worcester-ma.example", id="unsigned-tag"),
        pytest.param(INTAKE, id="plain-intake-address"),
        pytest.param("records+.abcdefghijkl@worcester-ma.example", id="signature-without-reference"),
    ],
)  # fmt: skip
def test_forged_or_unsigned_reply_address_names_no_request(address: str) -> None:
    assert ref_from_reply_address(SECRET, address) is None


def test_reply_address_with_non_ascii_signature_names_no_request() -> None:
    assert ref_from_reply_address(SECRET, "records+wor-2026-000042.é@worcester-ma.example") is None


def test_status_token_is_stable_and_differs_per_reference_and_per_secret() -> None:
    token = status_token(SECRET, REF)
    assert token == status_token(SECRET, REF)
    assert len(token) == 32
    assert token != status_token(SECRET, "WOR-2026-000043")
    assert token != status_token("another-install", REF)
    assert token_hash(token) != token and len(token_hash(token)) == 64
