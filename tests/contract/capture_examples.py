"""Captures the response examples of the spec from a live server: real answers about real services of the
catalog (free_school_meals filed on the portal, accepted, assigned, approved; a complaint; registries).

    CONTRACT_STAGES=capture tests/contract/run.sh     # writes api/src/openapi_examples.json

api/src/openapi.rs puts each example on the operation's main (2xx JSON) response; then regenerate
openapi.yaml. Arrays are cut to their first item to keep the spec readable. Run with the Schemathesis
venv's Python (it has `requests`); reads CONTRACT_BASE_URL and CONTRACT_TOKEN_<ROLE>.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import requests

BASE = os.environ["CONTRACT_BASE_URL"].rstrip("/")
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "api/src/openapi_examples.json"
TOKENS = {r: os.environ[f"CONTRACT_TOKEN_{r.upper()}"] for r in ("applicant", "operator", "employee", "head", "reviewer", "admin")}
examples: dict[str, object] = {}
problems: list[str] = []


def trim(value, depth=0):
    if isinstance(value, list):
        return [trim(v, depth + 1) for v in value[:1]]
    if isinstance(value, dict):
        return {k: trim(v, depth + 1) for k, v in value.items()}
    return value


def call(op_id, method, path, role=None, expect=(200, 201, 204), keep=True, **kw):
    headers = kw.pop("headers", {})
    if role:
        headers["Authorization"] = f"Bearer {TOKENS[role]}"
    r = requests.request(method, BASE + path, headers=headers, timeout=10, **kw)
    if r.status_code not in expect:
        problems.append(f"{op_id}: {method} {path} as {role}: {r.status_code} {r.text[:300]}")
        return None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") and r.content else None
    if keep and body is not None:
        examples[op_id] = trim(body)
    return r


def etag(r):
    return {"If-Match": r.headers["ETag"]} if r is not None and "ETag" in r.headers else {}


def iin_check(digits):
    for weights in (range(1, 12), [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]):
        c = sum(int(d) * w for d, w in zip(digits, weights)) % 11
        if c != 10:
            return str(c)
    return None


def child_iin():
    for serial in range(1, 100):
        base = f"1503125{serial:04d}"
        c = iin_check(base)
        if c is not None:
            return base + c
    raise RuntimeError("no IIN")


def fill(schema, name, applicant):
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    t = schema.get("type")
    if isinstance(t, list):
        t = next(x for x in t if x != "null")
    if t == "object":
        return {k: fill(schema["properties"][k], k, applicant) for k in schema.get("required", []) if k in schema.get("properties", {})}
    if t == "array":
        return [fill(schema.get("items", {}), name, applicant) for _ in range(max(1, schema.get("minItems", 1)))]
    if t == "boolean":
        return False
    if t in ("integer", "number"):
        return 1
    if schema.get("format") == "iin":
        return applicant if name == "iin" and applicant else child_iin()
    if schema.get("format") == "date":
        return "2015-03-12"
    if schema.get("format") == "email":
        return "aliya.nurlanovna@mail.kz"
    return {"school": "School-lyceum No 65, Astana", "last_name": "Nurlanova", "first_name": "Aliya"}.get(name, "Aliya")


def main():
    call("live", "GET", "/health/live")
    call("ready", "GET", "/health/ready")
    call("listServices", "GET", "/api/v1/services?lang=en")
    call("getService", "GET", "/api/v1/services/free_school_meals?lang=en")
    versions = call("listServiceVersions", "GET", "/api/v1/services/free_school_meals/versions?lang=en")
    vid = versions.json()["versions"][-1]["version"] if versions is not None else "unknown"
    call("getServiceVersion", "GET", f"/api/v1/services/free_school_meals/versions/{vid}?lang=en")
    form_schema = call("getServiceForm", "GET", "/api/v1/services/free_school_meals/form").json()
    call("getServiceDocuments", "GET", "/api/v1/services/free_school_meals/documents?channel=portal&lang=en")
    call("listOrganizations", "GET", "/api/v1/organizations")
    call("computeDeadline", "POST", "/api/v1/calendar/deadline", json={"start": "2026-11-21T10:00:00+05:00", "channel": "state_corporation", "service_key": "deprived_parent_meeting_permission"})
    call("getCalendarYear", "GET", "/api/v1/calendar/2026")
    call("getSigningKey", "GET", "/api/v1/documents/signing-key")
    # The decree of the schema's example (CalendarYearChange), recorded on this throwaway server.
    change = {"reason": "Order No 77 of 20 November 2026 moves the day off from Saturday 19 December to Wednesday 25 November",
              "decrees": [{"id": "mlsp-2026-11", "kind": "ministry_order", "number": "77", "date": "2026-11-20", "confidence": "confirmed"}],
              "kurban_ait": {"date": "2026-05-27", "confidence": "confirmed"},
              "transfers": [{"day_off": "2026-11-25", "working_day": "2026-12-19", "decree": "mlsp-2026-11"}]}
    call("putCalendarYear", "PUT", "/api/v1/calendar/2026", "admin", json=change)

    # Applicant files free_school_meals on the portal.
    applicant_iin = "900101300126"
    form = {}
    for key in form_schema.get("required", []):
        sub = form_schema["properties"][key]
        if key == "applicant":
            form[key] = {k: (applicant_iin if k == "iin" else fill(sub["properties"][k], k, None)) for k in sub.get("required", [])}
        else:
            form[key] = fill(sub, key, None)
    submit = {"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education", "form": form}

    def file_one():
        r = call("submitApplication", "POST", "/api/v1/applications", "applicant", json=submit,
                 headers={"Idempotency-Key": f"capture-{time.time_ns()}"})
        return r.json()["id"], r

    a, r = file_one()
    call("getApplication", "GET", f"/api/v1/applications/{a}", "applicant")
    call("listApplications", "GET", "/api/v1/applications", "applicant")
    call("getApplicationActions", "GET", f"/api/v1/applications/{a}/actions", "applicant")
    call("getIntakeCheck", "GET", f"/api/v1/applications/{a}/intake-check", "employee")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    call("uploadDocument", "POST", f"/api/v1/applications/{a}/documents", "applicant",
         data={"requirement_code": "birth_certificate"}, files={"file": ("birth_certificate.pdf", pdf, "application/pdf")})
    call("listDocuments", "GET", f"/api/v1/applications/{a}/documents", "applicant")
    r = call("acceptApplication", "POST", f"/api/v1/applications/{a}/accept", "employee",
             json={"comment": "Complete: application, identity document and birth certificate"}, headers=etag(call("x", "GET", f"/api/v1/applications/{a}", "employee", keep=False)))
    # Only an active employee of the provider's staff directory is assigned.
    call("x", "PUT", "/api/v1/organizations/astana-education/staff/emp-1", "admin", keep=False,
         json={"role": "employee", "full_name": "Staff member emp-1"})
    r = call("assignApplication", "POST", f"/api/v1/applications/{a}/assign", "head", json={"assignee": "emp-1"}, headers=etag(r))
    acts = call("x", "GET", f"/api/v1/applications/{a}/actions", "employee", keep=False)
    for stage in (acts.json().get("stage_deadlines") or []) if acts is not None else []:
        got = call("recordStageEvent", "POST", f"/api/v1/applications/{a}/stage-events", "employee", expect=(200,),
                   json={"term": stage["code"], "event": "started", "note": "request sent to the school"}, headers=etag(r))
        if got is not None:
            r = got
            problems[:] = [p for p in problems if not p.startswith("recordStageEvent")]
            break
    r = call("approveApplication", "POST", f"/api/v1/applications/{a}/approve", "employee",
             json={"result_code": "meals_certificate", "comment": "Targeted social assistance family"}, headers=etag(r))
    call("getApplicationHistory", "GET", f"/api/v1/applications/{a}/history", "applicant")
    docs = call("x", "GET", f"/api/v1/applications/{a}/documents", "applicant", keep=False)
    results = [x for x in (docs.json() if docs is not None else []) if x.get("kind") != "attachment"]
    if results:
        doc_id = results[-1]["id"]
        call("verifyDocument", "GET", f"/api/v1/documents/{doc_id}/verify")
        call("downloadDocument", "GET", f"/api/v1/documents/{doc_id}", "applicant")
        j = call("x", "GET", f"/api/v1/documents/{doc_id}?format=jws", "applicant", keep=False)
        if j is not None:
            call("verifyPostedDocument", "POST", "/api/v1/documents/verify", json={"jws": j.text.strip()})
    else:
        problems.append(f"no result document: {docs.text[:300] if docs is not None else None}")

    # A second application refused at intake, a third withdrawn.
    b, _ = file_one()
    call("refuseApplicationAtIntake", "POST", f"/api/v1/applications/{b}/refuse-intake", "employee",
         json={"missing_documents": ["birth_certificate"], "comment": "no birth certificate of the child"})
    c, _ = file_one()
    call("withdrawApplication", "POST", f"/api/v1/applications/{c}/withdraw", "applicant", json={"reason": "The school already feeds the child"})

    # A fourth: preliminary refusal, hearing, refusal; complaints.
    d, r = file_one()
    r = call("x", "POST", f"/api/v1/applications/{d}/accept", "employee", keep=False, json={})
    r = call("x", "POST", f"/api/v1/applications/{d}/assign", "head", keep=False, json={"assignee": "emp-1"})
    grounds = [g["code"] for g in (call("x", "GET", f"/api/v1/applications/{d}/actions", "employee", keep=False).json().get("refusal_grounds") or [])][:1]
    svc = requests.get(f"{BASE}/api/v1/services/free_school_meals?lang=en", timeout=10).json()
    if not grounds:
        grounds = [g["code"] for g in svc.get("refusal_grounds", [])][:1]
    hearing_at = requests.post(f"{BASE}/api/v1/calendar/deadline", json={"start": time.strftime("%Y-%m-%dT10:00:00+05:00"), "unit": "working_days", "value": 1}, timeout=10).json().get("due_at")
    call("preliminarilyRefuseApplication", "POST", f"/api/v1/applications/{d}/preliminary-refusal", "employee",
         json={"grounds": grounds, "hearing_at": hearing_at, "hearing_place": "Astana, Mangilik El 8, room 204",
               "comment": "The income certificate contradicts the registry"})
    call("recordHearing", "POST", f"/api/v1/applications/{d}/hearing", "employee",
         json={"applicant_position": "The income certificate was issued before the raise.", "evidence": ["income certificate of 2026-11-20"]})
    call("refuseApplication", "POST", f"/api/v1/applications/{d}/refuse", "employee",
         json={"grounds": grounds, "motivation": "The income certificate contradicts the pension contributions registry."})

    k1 = call("fileComplaint", "POST", f"/api/v1/applications/{d}/complaints", "applicant",
              json={"subject": "decision", "text": "The refusal ignores the income certificate I brought to the hearing."})
    if k1 is not None:
        k1 = k1.json()["id"]
        call("getComplaint", "GET", f"/api/v1/complaints/{k1}", "applicant")
        call("listComplaints", "GET", "/api/v1/complaints", "head")
        call("forwardComplaint", "POST", f"/api/v1/complaints/{k1}/forward", "head", json={"comment": "The provider upholds its refusal"})
        call("decideComplaint", "POST", f"/api/v1/complaints/{k1}/decide", "reviewer",
             json={"outcome": "upheld", "reason": "The hearing's evidence was not weighed; the provider must decide again."})
    k2 = call("x", "POST", f"/api/v1/applications/{a}/complaints", "applicant", keep=False,
              json={"subject": "action", "text": "The certificate names the wrong school."})
    if k2 is not None:
        call("satisfyComplaint", "POST", f"/api/v1/complaints/{k2.json()['id']}/satisfy", "head",
             json={"reason": "The school name was mistyped; the certificate is reissued."})

    call("monitorApplications", "GET", "/api/v1/monitoring/applications", "head")
    n = call("listMyNotifications", "GET", "/api/v1/me/notifications", "applicant")
    items = n.json().get("items", []) if n is not None else []
    if items:
        call("markNotificationRead", "POST", f"/api/v1/me/notifications/{items[0]['id']}/read", "applicant")
    call("listEvents", "GET", "/api/v1/events", "admin")

    record = {"kind": "marriage", "subject_iin": applicant_iin, "valid_until": None,
              "data": {"record_number": "АЗ-2026-000101", "registered_on": "2026-10-10", "spouse_iin": "150321650010"}}
    rec = call("createRegistryRecord", "POST", "/api/v1/registries/civil_registry_marriages/records", "admin", json=record)
    call("lookupRegistryRecords", "GET", f"/api/v1/registries/civil_registry_marriages/records?subject_iin={applicant_iin}&application_id={a}", "employee")
    if rec is not None:
        rid = rec.json()["id"]
        record["data"]["registered_on"] = "2026-10-11"
        call("updateRegistryRecord", "PUT", f"/api/v1/registries/civil_registry_marriages/records/{rid}", "admin", json=record)
        call("deleteRegistryRecord", "DELETE", f"/api/v1/registries/civil_registry_marriages/records/{rid}", "admin")

    examples.pop("x", None)
    # The examples this scenario does not reach (subscriptions and deliveries, the preschool queue) were
    # captured from the end-to-end scenarios of tests/tests/{webhooks,preschool_queue}.rs: kept as they are.
    kept = json.loads(OUT.read_text()) if OUT.exists() else {}
    merged = {**kept, **examples}
    OUT.write_text(json.dumps(dict(sorted(merged.items())), ensure_ascii=False, indent=1) + "\n")
    print(f"captured {len(examples)} examples into {OUT}")
    for p in problems:
        print("NOT CAPTURED:", p)


if __name__ == "__main__":
    main()
