// Smoke test of the client generated from openapi.yaml (openapi-typescript types + openapi-fetch):
// list services, file a `free_school_meals` application on the portal with a form built from the
// service's own form schema, read its status. Run by run.sh after `tsc --strict`; against any
// deployment with CONTRACT_BASE_URL and CONTRACT_TOKEN_APPLICANT.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type ApplicationView = components["schemas"]["ApplicationView"];
type JsonSchema = {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  minItems?: number;
  minLength?: number;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
};

const baseUrl = (process.env.CONTRACT_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const applicantToken = process.env.CONTRACT_TOKEN_APPLICANT;
if (!applicantToken) throw new Error("CONTRACT_TOKEN_APPLICANT is not set");
const SERVICE = "free_school_meals";
const PROVIDER = process.env.CONTRACT_PROVIDER_ID ?? "astana-education";

const client = createClient<paths>({ baseUrl });
const auth: Middleware = {
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${applicantToken}`);
    return request;
  },
};
client.use(auth);

function fail(what: string, detail: unknown): never {
  console.error(`smoke: ${what}:`, JSON.stringify(detail, null, 2));
  process.exit(1);
}

/** A valid Kazakh IIN for a child born on `yymmdd` in the 2000s (century-and-sex digit 5), serial `serial`. */
function childIin(yymmdd: string, serial: string): string {
  const digits = `${yymmdd}5${serial}`.split("").map(Number);
  const check = (weights: number[]) => digits.reduce((sum, d, i) => sum + d * (weights[i] ?? 0), 0) % 11;
  let c = check([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  if (c === 10) c = check([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
  if (c === 10) return childIin(yymmdd, String(Number(serial) + 1).padStart(4, "0"));
  return digits.join("") + String(c);
}

/** Fills the required fields of a form schema (JSON Schema) with plausible values. */
function fill(schema: JsonSchema, name: string, applicantIin: string): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        const sub = schema.properties?.[key];
        if (sub) out[key] = fill(sub, key, applicantIin);
      }
      return out;
    }
    case "array":
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => fill(schema.items ?? {}, name, applicantIin));
    case "boolean":
      return false;
    case "integer":
    case "number":
      return 1;
    default:
      if (schema.format === "iin") return name === "applicant" ? applicantIin : childIin("150312", "0001");
      if (schema.format === "date") return "2015-03-12";
      if (schema.format === "email") return "aliya@example.kz";
      return name === "school" ? "School-lyceum No 65, Astana" : "Aliya";
  }
}

/** Like `fill`, with the applicant's own IIN wherever a property `applicant` holds one. */
function fillForm(schema: JsonSchema, applicantIin: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const sub = schema.properties?.[key];
    if (!sub) continue;
    out[key] = key === "applicant" && sub.type === "object"
      ? Object.fromEntries(
          (sub.required ?? []).map((k) => [k, k === "iin" ? applicantIin : fill(sub.properties?.[k] ?? {}, k, applicantIin)]),
        )
      : fill(sub, key, applicantIin);
  }
  return out;
}

async function main(): Promise<void> {
  // 1. List services.
  const services = await client.GET("/api/v1/services", { params: { query: { lang: "en" } } });
  if (!services.data) fail("GET /api/v1/services", services.error);
  const keys = services.data.items.map((s) => s.key);
  if (!keys.includes(SERVICE)) fail(`${SERVICE} is not in the catalog`, keys);
  console.log(`smoke: ${keys.length} services, ${SERVICE} among them`);

  // 2. Build the form from the service's form schema and file the application on the portal.
  const form = await client.GET("/api/v1/services/{key}/form", { params: { path: { key: SERVICE } } });
  if (!form.data) fail(`GET /api/v1/services/${SERVICE}/form`, form.error);
  const iin = JSON.parse(Buffer.from(applicantToken!.split(".")[1] ?? "", "base64url").toString()).sub as string;
  const body = {
    service_key: SERVICE,
    channel: "portal" as const,
    provider_id: PROVIDER,
    form: fillForm(form.data as JsonSchema, iin),
  };
  const submitted = await client.POST("/api/v1/applications", {
    body,
    params: { header: { "Idempotency-Key": `smoke-${Date.now()}` } },
  });
  if (!submitted.data) fail("POST /api/v1/applications", { sent: body, got: submitted.error });
  const app: ApplicationView = submitted.data;
  console.log(`smoke: filed ${app.registration_number} (${app.id}), due ${app.due_date}`);

  // 3. Read its status.
  const read = await client.GET("/api/v1/applications/{id}", { params: { path: { id: app.id } } });
  if (!read.data) fail(`GET /api/v1/applications/${app.id}`, read.error);
  if (read.data.id !== app.id) fail("read another application", read.data);
  const actions = await client.GET("/api/v1/applications/{id}/actions", { params: { path: { id: app.id } } });
  if (!actions.data) fail(`GET /api/v1/applications/${app.id}/actions`, actions.error);
  console.log(`smoke: status ${read.data.status}, version ${read.data.version}`);
  console.log("smoke: 1 passed, 0 failed");
}

main().catch((e: unknown) => fail("unexpected error", String(e)));
