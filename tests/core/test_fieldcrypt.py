"""Clinical text is stored encrypted under the patient's key, bound to its table, column and row."""

from __future__ import annotations

import io
import os
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from accounts.models import User
from cases.models import Case
from core.crypto import DecryptionError
from core.fieldcrypt import open_sealed, seal

CANARY = "Canary-melanoma-7731 on the left shoulder"

pytestmark = pytest.mark.django_db


def _stored(case: Case, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM cases_case WHERE id = %s",
            [case.pk.hex if connection.vendor == "sqlite" else case.pk],
        )
        return cursor.fetchone()[0]


def _case(patient: User, **text: str) -> Case:
    return Case.objects.create(patient=patient, **text)


def test_the_database_holds_ciphertext_and_the_model_gives_the_text_back(patient_a: User) -> None:
    case = _case(patient_a, reason=CANARY, title="Mole on my back", allergies="")
    assert _stored(case, "reason").startswith("so1:") and "Canary" not in _stored(case, "reason")
    assert _stored(case, "allergies") == ""  # an unanswered field says nothing either way
    again = Case.objects.get(pk=case.pk)
    assert (again.reason, again.title, again.allergies) == (CANARY, "Mole on my back", "")


def test_a_value_moved_to_another_row_column_or_patient_does_not_decrypt(patient_a: User, patient_b: User) -> None:
    mine, other_row, others = (
        _case(patient_a, reason=CANARY),
        _case(patient_a, reason="x"),
        _case(patient_b, reason="y"),
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET expectations = reason")  # another column
    with pytest.raises(DecryptionError):
        _ = Case.objects.get(pk=mine.pk).expectations
    sealed = _stored(mine, "reason")
    for target in (other_row, others):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE cases_case SET reason = %s WHERE reference = %s", [sealed, target.reference])
        with pytest.raises(DecryptionError):
            _ = Case.objects.get(pk=target.pk).reason
    assert Case.objects.get(pk=mine.pk).reason == CANARY


def test_writes_that_bypass_the_row_are_refused_rather_than_stored_in_plaintext(patient_a: User) -> None:
    case = _case(patient_a, reason=CANARY)
    with pytest.raises(ValueError, match="encrypted"), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(reason="plain")
    with pytest.raises(ValueError, match="encrypted"):
        list(Case.objects.filter(reason=CANARY))
    assert Case.objects.get(pk=case.pk).reason == CANARY
    case.reason = "changed"
    with pytest.raises(ValueError, match="encrypted"), transaction.atomic():
        Case.objects.bulk_update([case], ["reason"])
    assert Case.objects.get(pk=case.pk).reason == CANARY


def test_format_vector() -> None:
    key = bytes(range(32))
    sealed = seal(key, "ñandú", table="t", column="c", row="r")
    assert open_sealed(key, sealed, table="t", column="c", row="r") == "ñandú"
    assert seal(key, "", table="t", column="c", row="r") == ""
    with pytest.raises(DecryptionError):
        open_sealed(key, sealed[:-4] + "AAA=", table="t", column="c", row="r")


def test_seal_fields_encrypts_what_was_written_before_and_check_counts_what_is_left(patient_a: User) -> None:
    case = _case(patient_a, reason="placeholder")
    with connection.cursor() as cursor:  # as a row of the last release: plaintext
        cursor.execute("UPDATE cases_case SET reason = %s, diagnoses = %s", [CANARY, "type 2 diabetes"])
    assert Case.objects.get(pk=case.pk).reason == CANARY  # readable meanwhile
    with pytest.raises(CommandError, match="2 values are still in plaintext"):
        call_command("seal_fields", "--check", stdout=io.StringIO())
    call_command("seal_fields", "--batch", "1", stdout=io.StringIO())
    call_command("seal_fields", "--check", stdout=io.StringIO())
    assert _stored(case, "reason").startswith("so1:")
    again = Case.objects.get(pk=case.pk)
    assert (again.reason, again.diagnoses) == (CANARY, "type 2 diabetes")


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_holds_none_of_the_words_typed_into_the_case(patient_a: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL")
    fields = ["title", "reason", "expectations", "first_diagnosis", "first_treatment", "first_opinion_by"]
    fields += ["diagnoses", "allergies", "family_history"]
    case = _case(patient_a, **{name: f"{CANARY} {name}"[:100] for name in fields})
    params = connection.settings_dict
    env = {**os.environ, "PGHOST": params.get("HOST") or "", "PGPORT": str(params.get("PORT") or "")}
    if params.get("USER"):
        env["PGUSER"] = params["USER"]
    dump = subprocess.run(
        ["pg_dump", "--data-only", params["NAME"]], check=True, capture_output=True, text=True, env=env
    ).stdout
    assert case.reference in dump and "Canary" not in dump
    again = Case.objects.get(pk=case.pk)
    assert [getattr(again, name) for name in fields] == [f"{CANARY} {name}"[:100] for name in fields]
