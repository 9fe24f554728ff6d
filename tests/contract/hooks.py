"""Schemathesis hooks for the contract run (loaded through SCHEMATHESIS_HOOKS by run.sh).

Authentication: every secured operation is called with the tokens of the roles that use it, in turn
(a different role for each generated case), so the run sees what each role gets back: the 2xx of the
role that may act, and the 403/404/409 of the others. The first role listed is the one that acts on
that operation in the procedure (README "The procedure"). Tokens come from the environment,
CONTRACT_TOKEN_<ROLE> (run.sh mints them, or QA exports them for a deployment).
"""

from __future__ import annotations

import copy
import datetime
import itertools
import json
import os
import random
import threading

import schemathesis
import yaml

from hypothesis import strategies as st


def _check_digit(first11: str) -> int | None:
    """The 12th digit of a Kazakh IIN/BIN: weights 1..11, else 3..11,1,2, modulo 11; None when both give 10."""
    digits = [int(c) for c in first11]
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        c = sum(d * w for d, w in zip(digits, weights)) % 11
        if c != 10:
            return c
    return None


@st.composite
def _iin(draw):
    """A valid IIN: a real birth date, century-and-sex digit 1-6, serial, check digit."""
    born = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2026, 12, 31)))
    digit7 = (3 if born.year < 2000 else 5) + draw(st.integers(0, 1))
    first11 = f"{born:%y%m%d}{digit7}{draw(st.integers(0, 9999)):04d}"
    check = _check_digit(first11)
    return first11 + str(check) if check is not None else "150321650010"


@st.composite
def _bin(draw):
    """A valid BIN: registration year and month, entity type 4-6, attribute and serial, check digit."""
    first11 = f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}{draw(st.integers(4, 6))}{draw(st.integers(0, 999999)):06d}"
    check = _check_digit(first11)
    return first11 + str(check) if check is not None else "120340000123"


# The forms' and the API's `format: iin` / `format: bin` check the check digit: generate numbers that pass it,
# so a schema-valid case is a valid number (and ST202 tests what it should).
schemathesis.openapi.format("iin", _iin())
schemathesis.openapi.format("bin", _bin())

# `format: if-match` (the commands' If-Match header): `*` or one entity-tag of an application version, `"N"` or
# `W/"N"`. Small versions, so that some generated commands name the current one and get past the precondition.
# Without a strategy of its own, Schemathesis' coverage phase has no valid value for a header whose pattern needs
# characters other than letters and digits (the quotes), and fills positive cases with an invalid one.
schemathesis.openapi.format(
    "if-match",
    st.one_of(
        st.just("*"),
        st.integers(1, 9).map(lambda n: f'"{n}"'),
        st.integers(1, 10**18 - 1).map(lambda n: f'"{n}"'),
        st.integers(1, 9).map(lambda n: f'W/"{n}"'),
    ),
)

ROLES = ("applicant", "operator", "employee", "head", "reviewer", "admin")
STAFF = ["employee", "head", "operator", "reviewer", "admin"]

# operationId -> roles that use the operation, the acting role first. Operations not listed are public
# (no security in the spec) and get no token.
BY_OPERATION: dict[str, list[str]] = {
    # applications
    "submitApplication": ["applicant", "operator", "employee"],
    "listApplications": ["applicant", "employee", "head", "operator", "reviewer", "admin"],
    "getApplication": ["applicant", "employee", "head", "operator", "reviewer"],
    "getApplicationHistory": ["applicant", "employee", "head", "reviewer"],
    "getIntakeCheck": ["employee", "operator", "head", "applicant"],
    # documents
    "listDocuments": ["applicant", "employee", "head"],
    "uploadDocument": ["applicant", "operator", "employee"],
    "downloadDocument": ["applicant", "employee", "head"],
    # lifecycle
    "acceptApplication": ["employee", "operator", "applicant"],
    "refuseApplicationAtIntake": ["employee", "operator", "applicant"],
    "assignApplication": ["head", "employee"],
    "approveApplication": ["employee", "head", "applicant"],
    "preliminarilyRefuseApplication": ["employee", "head"],
    "recordHearing": ["employee", "head"],
    "refuseApplication": ["employee", "head"],
    "withdrawApplication": ["applicant", "employee"],
    "getApplicationActions": ["applicant", "employee", "head", "operator"],
    # complaints
    "fileComplaint": ["applicant", "employee"],
    "listComplaints": ["applicant", "employee", "head", "reviewer", "admin"],
    "getComplaint": ["applicant", "head", "reviewer"],
    "satisfyComplaint": ["head", "employee"],
    "forwardComplaint": ["head", "employee"],
    "decideComplaint": ["reviewer", "head"],
    # others
    "monitorApplications": ["head", "reviewer", "admin", "applicant"],
    "listMyNotifications": ["applicant", "employee"],
    "markNotificationRead": ["applicant", "employee"],
    "lookupRegistryRecords": ["employee", "admin", "applicant"],
    "createRegistryRecord": ["admin", "employee"],
    "updateRegistryRecord": ["admin", "employee"],
    "deleteRegistryRecord": ["admin", "employee"],
    "listEvents": ["admin", "reviewer", "applicant"],
    "publishServiceVersion": ["admin", "head"],
    "putCalendarYear": ["admin", "head"],
}

_lock = threading.Lock()
_cycles: dict[str, itertools.cycle] = {}


def token(role: str) -> str:
    value = os.environ.get(f"CONTRACT_TOKEN_{role.upper()}", "")
    if not value:
        raise RuntimeError(f"CONTRACT_TOKEN_{role.upper()} is not set")
    return value


def _roles_for(operation) -> list[str]:
    op_id = operation.definition.raw.get("operationId", "")
    if op_id in BY_OPERATION:
        return BY_OPERATION[op_id]
    if operation.definition.raw.get("security"):
        # A secured operation this table does not know yet: every role.
        return list(ROLES)
    return []


def _is_stateful(case) -> bool:
    meta = getattr(case, "meta", None)
    phase = getattr(getattr(meta, "phase", None), "name", None)
    return str(phase) == "stateful"


def next_role(operation, stateful: bool = False) -> str | None:
    roles = _roles_for(operation)
    if not roles:
        return None
    # Stateful scenarios follow the procedure (submit -> accept -> assign -> decide): the acting role.
    if stateful or os.environ.get("CONTRACT_ROTATE_ROLES", "1") == "0":
        return roles[0]
    key = operation.label
    with _lock:
        cycle = _cycles.setdefault(key, itertools.cycle(roles))
        return next(cycle)


@schemathesis.auth(refresh_interval=None)
class RoleAuth:
    """Chooses a role's token for each case of a secured operation."""

    def get(self, case, ctx):
        role = next_role(case.operation, _is_stateful(case))
        return token(role) if role else None

    def set(self, case, data, ctx):
        if data is None:
            return
        if case.headers is None:
            case.headers = {}
        case.headers["Authorization"] = f"Bearer {data}"


# ---------------------------------------------------------------- request examples in stateful runs
# The spec's request examples are real catalog values (a complete free_school_meals form, a result code
# of its passport, an employee of its provider). Stateful scenarios send them most of the time, so that
# submit -> accept -> assign -> approve / preliminary refusal -> hearing -> refuse get past validation
# and reach the procedure; generated bodies still fill the rest.
_examples: dict[str, object] | None = None


def _request_examples() -> dict[str, object]:
    global _examples
    if _examples is None:
        _examples = {}
        spec_path = os.environ.get("CONTRACT_SPEC")
        if spec_path and os.path.exists(spec_path):
            with open(spec_path, encoding="utf-8") as f:
                spec = yaml.safe_load(f)
            schemas = spec.get("components", {}).get("schemas", {})
            for item in spec.get("paths", {}).values():
                for op in item.values():
                    if not isinstance(op, dict) or "operationId" not in op:
                        continue
                    media = op.get("requestBody", {}).get("content", {}).get("application/json")
                    if not media:
                        continue
                    example = media.get("example")
                    ref = media.get("schema", {}).get("$ref", "")
                    if example is None and ref.startswith("#/components/schemas/"):
                        example = schemas.get(ref.rsplit("/", 1)[1], {}).get("example")
                    if example is not None:
                        # YAML reads dates as dates: back to JSON text.
                        _examples[op["operationId"]] = json.loads(json.dumps(example, default=str))
    return _examples


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _is_stateful(case) or random.random() > 0.7:
        return
    op_id = case.operation.definition.raw.get("operationId", "")
    example = _request_examples().get(op_id)
    if example is not None and case.media_type == "application/json":
        case.body = copy.deepcopy(example)
