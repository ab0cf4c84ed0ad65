from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.pipeline.privacy import PLACEHOLDER, find_personal_data, redact

RESUME = """Jane Doe — Senior Backend Engineer
jane.doe@example.com | +1 (415) 555-0134 | 742 Evergreen Terrace, Springfield | linkedin.com/in/janedoe
https://janedoe.dev  SSN: 123-45-6789  Passport No. X12345678
Musterstraße 12, 10115 Berlin. Tel: 030 1234567. IBAN DE89 3704 0044 0532 0130 00
Worked 2015-2023 at Acme. 8 years of experience with Python 3.11 and PostgreSQL 15; p95 200ms, 99.9% uptime.
"""


def test_redacts_every_kind_of_personal_data() -> None:
    r = redact(RESUME, names=["Jane Doe"])
    for secret in [
        "jane.doe@example.com",
        "555-0134",
        "Evergreen",
        "linkedin.com/in/janedoe",
        "janedoe.dev",
        "123-45-6789",
        "X12345678",
        "Musterstraße",
        "030 1234567",
        "DE89",
        "Jane",
        "Doe",
    ]:
        assert secret not in r.text, secret
    assert r.counts["EMAIL"] == 1 and r.counts["NAME"] == 2 and r.counts["PHONE"] >= 2


def test_keeps_the_facts_a_plan_needs() -> None:
    r = redact(RESUME)
    for fact in [
        "Senior Backend Engineer",
        "8 years of experience",
        "Python 3.11",
        "PostgreSQL 15",
        "2015-2023",
        "99.9%",
        "200ms",
    ]:
        assert fact in r.text, fact


def test_corpus_urls_may_stay() -> None:
    text = "See https://www.postgresql.org/docs/ and https://evil.example.com/x"
    r = redact(text, keep_urls={"https://www.postgresql.org/docs/"})
    assert "https://www.postgresql.org/docs/" in r.text
    assert "evil.example.com" not in r.text


def test_find_personal_data_flags_leftovers() -> None:
    assert "EMAIL" in find_personal_data("write to a.b@c.io")
    assert find_personal_data("Own the API design with 99.9% uptime by week 6") == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_redaction_never_crashes_and_is_idempotent(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text


@settings(max_examples=100, deadline=None)
@given(
    user=st.from_regex(r"[a-z]{3,10}(\.[a-z]{2,8})?", fullmatch=True),
    domain=st.from_regex(r"[a-z]{3,10}\.(com|io|de|org)", fullmatch=True),
    prefix=st.text(alphabet=st.characters(whitelist_categories=["L", "Zs"]), max_size=40),
)
def test_any_email_is_removed(user: str, domain: str, prefix: str) -> None:
    email = f"{user}@{domain}"
    out = redact(f"{prefix} {email} is my address").text
    assert email not in out
    assert PLACEHOLDER.search(out)
