// Every application form the API serves, for every version of every service (each was or is in force),
// checked as a front-end team would use it (tests/contract/README.md, stage `forms`):
//   1. AJV (draft 2020-12, strict mode, ajv-formats, IIN/BIN written here) compiles the form and accepts
//      its own example (`examples[0]`), and the localized copies (kk, ru, en) accept it too;
//   2. react-jsonschema-form renders it in headless Chromium in kk, ru and en, prefilled with the example:
//      the labels shown are that language's labels of the schema, a screenshot per form and language
//      goes to the artifacts folder;
//   3. free_school_meals is filled through the UI (the validator refuses a wrong IIN check digit first),
//      and the submitted formData is filed on the live server: 201.
// Run by run.sh with CONTRACT_BASE_URL and CONTRACT_TOKEN_APPLICANT; CONTRACT_CHROMIUM names the browser
// (default /usr/bin/chromium), CONTRACT_FORMS_ARTIFACTS the screenshot folder.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { isBin, isIin } from "./identity.mjs";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const BASE = (process.env.CONTRACT_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const TOKEN = process.env.CONTRACT_TOKEN_APPLICANT;
const PROVIDER = process.env.CONTRACT_PROVIDER_ID ?? "astana-education";
const CHROMIUM = process.env.CONTRACT_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = process.env.CONTRACT_FORMS_ARTIFACTS ?? `${HERE}../artifacts/forms`;
const LANGS = ["kk", "ru", "en"];
const FILLED_SERVICE = "free_school_meals";

// ------------------------------------------------------------------------------------------ the API
async function getJson(path, headers = {}) {
  const res = await fetch(`${BASE}${path}`, { headers });
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${text.slice(0, 500)}`);
  return { json: JSON.parse(text), headers: res.headers };
}

/** Every (service, version) of the catalog, with the version's status today. */
async function catalog() {
  const { json: list } = await getJson("/api/v1/services?scope=all&lang=en");
  const out = [];
  for (const { key } of list.items) {
    const { json: versions } = await getJson(`/api/v1/services/${key}/versions?lang=en`);
    for (const v of versions.versions) out.push({ key, version: v.version, status: v.status, governing: v.governing });
  }
  return out;
}

const forms = await catalog();

// ------------------------------------------------------------------------------------------ AJV
const LABELS = {
  type: "object",
  required: LANGS,
  additionalProperties: false,
  properties: Object.fromEntries(LANGS.map((l) => [l, { type: "string", minLength: 1 }])),
};

/** AJV in strict mode: unknown keywords and formats are errors; our two annotations are checked by
 * their meta-schemas (labels in exactly kk, ru and en). */
function strictAjv() {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("iin", { type: "string", validate: isIin });
  ajv.addFormat("bin", { type: "string", validate: isBin });
  ajv.addKeyword({ keyword: "x-title", metaSchema: LABELS });
  ajv.addKeyword({ keyword: "x-enum-titles", metaSchema: { type: "object", additionalProperties: LABELS } });
  return ajv;
}

/** Every subschema of a form (through properties, items, allOf, if/then/else). */
function* subschemas(schema) {
  if (!schema || typeof schema !== "object") return;
  yield schema;
  for (const sub of Object.values(schema.properties ?? {})) yield* subschemas(sub);
  if (schema.items) yield* subschemas(schema.items);
  for (const part of schema.allOf ?? []) yield* subschemas(part);
  for (const k of ["if", "then", "else"]) if (schema[k]) yield* subschemas(schema[k]);
}

/** The first IIN-formatted value of an instance, as a JSON-pointer path. */
function findIin(schema, data, path = []) {
  if (schema?.format === "iin" && typeof data === "string") return path;
  if (schema?.type === "object" && data && typeof data === "object") {
    for (const [k, sub] of Object.entries(schema.properties ?? {})) {
      if (k in data) {
        const p = findIin(sub, data[k], [...path, k]);
        if (p) return p;
      }
    }
  }
  if (schema?.type === "array" && Array.isArray(data) && data.length) return findIin(schema.items, data[0], [...path, 0]);
  return null;
}

describe("AJV 2020-12 accepts each form's own example", () => {
  for (const f of forms) {
    test(`${f.key}/${f.version} (${f.status})`, async () => {
      const { json: form, headers } = await getJson(`/api/v1/services/${f.key}/versions/${f.version}/form`);
      assert.equal(headers.get("x-passport-version"), f.version);
      assert.equal(form.$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.ok(Array.isArray(form.examples) && form.examples.length > 0, "the form has an example");
      const example = form.examples[0];
      const validate = strictAjv().compile(form);
      assert.ok(validate(example), `example refused: ${JSON.stringify(validate.errors, null, 1)}`);
      for (const s of subschemas(form)) {
        if (s["x-enum-titles"]) {
          assert.deepEqual(Object.keys(s["x-enum-titles"]).sort(), [...s.enum].sort(), "a label for every enum value");
        }
      }
      // The validator really checks: no additional property, and (where there is one) the IIN check digit.
      assert.equal(validate({ ...example, "not-a-field": 1 }), form.additionalProperties === false ? false : true);
      const iinPath = findIin(form, example);
      if (iinPath) {
        const broken = structuredClone(example);
        let node = broken;
        for (const k of iinPath.slice(0, -1)) node = node[k];
        const last = iinPath.at(-1);
        node[last] = node[last].slice(0, 11) + String((Number(node[last][11]) + 1) % 10);
        assert.equal(validate(broken), false, `a wrong check digit at /${iinPath.join("/")} is refused`);
      }
      for (const lang of LANGS) {
        const { json: localized, headers: h } = await getJson(
          `/api/v1/services/${f.key}/versions/${f.version}/form?lang=${lang}`,
        );
        assert.equal(h.get("content-language"), lang);
        const v = strictAjv().compile(localized);
        assert.ok(v(example), `${lang}: example refused: ${JSON.stringify(v.errors)}`);
        assert.deepEqual(localized.examples, form.examples);
      }
      if (f.governing) {
        const { json: current } = await getJson(`/api/v1/services/${f.key}/form`);
        assert.deepEqual(current, form, "the form in force is this version's form");
      }
    });
  }
});

// ------------------------------------------------------------------------------------------ rendering
let browser;
let html;
const pageErrors = [];

before(async () => {
  const bundle = await build({
    entryPoints: [`${HERE}page.jsx`],
    bundle: true,
    minify: true,
    format: "iife",
    write: false,
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  const js = bundle.outputFiles[0].text.replaceAll("</script", "<\\/script");
  html = `<!doctype html><html><head><meta charset="utf-8"><style>
    body { font-family: "DejaVu Sans", sans-serif; font-size: 14px; margin: 16px; max-width: 880px; color: #1b1b1b; }
    legend { font-weight: bold; font-size: 15px; padding: 0 4px; }
    fieldset { border: 1px solid #c8ccd2; border-radius: 4px; margin: 8px 0; padding: 8px 12px; }
    #root > form > fieldset > legend { font-size: 18px; }
    .form-group { margin: 6px 0; }
    label.control-label { display: block; font-weight: 600; margin-bottom: 2px; }
    input[type=text], input:not([type]), input[type=email], input[type=date], select { width: 100%; box-sizing: border-box; padding: 4px 6px; }
    .required { color: #b00020; margin-left: 2px; }
    .error-detail, .errors { color: #b00020; }
    button { padding: 4px 12px; min-width: 32px; }
    /* The core theme's array buttons carry Bootstrap 3 glyphicon classes; no icon font here. */
    .glyphicon-plus::before { content: "+"; } .glyphicon-remove::before { content: "✕"; }
    .glyphicon-arrow-up::before { content: "↑"; } .glyphicon-arrow-down::before { content: "↓"; }
    .glyphicon-copy::before { content: "⧉"; }
  </style></head><body><div id="root"></div><script>${js}</script></body></html>`;
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const f of forms) for (const lang of LANGS) rmSync(shot(f, lang), { force: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});

after(async () => {
  await browser?.close();
});

function shot(f, lang, suffix = "") {
  return `${ARTIFACTS}/${f.key}__${f.version}__${lang}${suffix}.png`;
}

/** A fresh page with the form rendered; page errors fail the test. */
async function render(schema, formData, lang) {
  const page = await browser.newPage({ viewport: { width: 920, height: 900 }, locale: lang });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.setContent(html);
  await page.waitForFunction(() => window.pageReady === true);
  await page.evaluate((args) => window.renderForm(args), { schema, formData, lang });
  await page.waitForSelector("form.rjsf");
  return page;
}

/** The label texts on the page: field labels, fieldset legends, checkbox captions. */
async function shownLabels(page) {
  return page.$$eval("label, legend", (els) =>
    els.map((el) => el.textContent.replace(/\*$/, "").trim()).filter((t) => t.length > 0),
  );
}

/** The labels a renderer must show for a form filled with `data`: the root, every property present
 * (or rendered empty) and the array items' fields of the items present. */
function expectedTitles(schema, data, lang, out = []) {
  if (!schema || typeof schema !== "object") return out;
  const t = schema["x-title"]?.[lang];
  if (t) out.push(t);
  if (schema.type === "object") {
    for (const [k, sub] of Object.entries(schema.properties ?? {})) {
      expectedTitles(sub, data?.[k], lang, out);
    }
  } else if (schema.type === "array" && Array.isArray(data) && data.length && schema.items?.type === "object") {
    for (const sub of Object.values(schema.items.properties ?? {})) expectedTitles(sub, undefined, lang, out);
    if (schema.items["x-title"]?.[lang]) out.push(schema.items["x-title"][lang]);
  }
  return out;
}

describe("react-jsonschema-form renders each form in kk, ru and en", () => {
  for (const f of forms) {
    for (const lang of LANGS) {
      test(`${f.key}/${f.version} in ${lang}`, async () => {
        const { json: schema } = await getJson(`/api/v1/services/${f.key}/versions/${f.version}/form?lang=${lang}`);
        const example = schema.examples[0];
        pageErrors.length = 0;
        const page = await render(schema, example, lang);
        try {
          await page.screenshot({ path: shot(f, lang), fullPage: true });
          const shown = new Set(await shownLabels(page));
          const expected = [...new Set(expectedTitles(schema, example, lang))];
          if (Object.keys(schema.properties ?? {}).length === 0) {
            // A title-only version (the act's text keeps no form): the renderer shows its title, no field.
            assert.ok(shown.has(schema.title), `the title is shown: ${JSON.stringify([...shown])}`);
            assert.equal(await page.locator("input, select, textarea").count(), 0);
          } else {
            assert.ok(expected.length > 1, "the form has labels");
          }
          const missing = expected.filter((t) => !shown.has(t));
          assert.deepEqual(missing, [], `labels not shown in ${lang}; shown: ${JSON.stringify([...shown])}`);
          // No label of another language where it differs from this one's.
          const others = LANGS.filter((l) => l !== lang)
            .flatMap((l) => expectedTitles(schema, example, l))
            .filter((t) => !expected.includes(t));
          assert.deepEqual(others.filter((t) => shown.has(t)), [], "labels of another language are shown");
          // Enum values with labels show them, in this language.
          for (const s of subschemas(schema)) {
            if (!s["x-enum-titles"]) continue;
            const options = await page.$$eval("select option", (os) => os.map((o) => o.textContent.trim()));
            for (const v of s.enum) assert.ok(options.includes(s["x-enum-titles"][v][lang]), `option for ${v}`);
          }
          assert.deepEqual(pageErrors, [], "the page logged errors");
        } finally {
          await page.close();
        }
      });
    }
  }
});

// ------------------------------------------------------------------------------------------ filing
/** A valid IIN of a child born on yymmdd in the 2000s (7th digit 5). */
function childIin(yymmdd, serial = 1) {
  for (let n = serial; n < 10000; n++) {
    const first11 = `${yymmdd}5${String(n).padStart(4, "0")}`;
    for (let c = 0; c <= 9; c++) if (isIin(first11 + c)) return first11 + c;
  }
  throw new Error("no IIN");
}

test(`fill ${FILLED_SERVICE} through the UI and file it on the server`, async () => {
  assert.ok(TOKEN, "CONTRACT_TOKEN_APPLICANT is set");
  const applicantIin = JSON.parse(Buffer.from(TOKEN.split(".")[1], "base64url").toString()).sub;
  const lang = "ru";
  const { json: schema } = await getJson(`/api/v1/services/${FILLED_SERVICE}/form?lang=${lang}`);
  pageErrors.length = 0;
  const page = await render(schema, {}, lang);
  try {
    await page.fill("#root_applicant_iin", applicantIin);
    await page.fill("#root_applicant_last_name", "Нурланова");
    await page.fill("#root_applicant_first_name", "Алия");
    if (!(await page.$("#root_children_0_iin"))) await page.click(".rjsf-array-item-add button, .array-item-add button");
    const child = childIin("150312");
    const wrong = child.slice(0, 11) + String((Number(child[11]) + 1) % 10);
    await page.fill("#root_children_0_iin", wrong);
    await page.fill("#root_children_0_last_name", "Нурланов");
    await page.fill("#root_children_0_first_name", "Арман");
    await page.fill("#root_children_0_school", "Школа-лицей № 65, Астана");
    // The option shows the answer's text of the passport's question, in this language.
    const category = schema.properties.child_category["x-enum-titles"].low_income_no_assistance[lang];
    await page.selectOption("#root_child_category", { label: category });
    await page.check("#root_personal_data_consent");

    // The wrong check digit is refused by the form's own validator, before anything is sent.
    await page.click("button[type=submit]");
    await page.waitForFunction(() => window.submitErrors !== undefined || window.submitted !== undefined);
    const refused = await page.evaluate(() => ({ errors: window.submitErrors, submitted: window.submitted }));
    assert.equal(refused.submitted, undefined, "a form with a wrong IIN is not submitted");
    assert.ok(
      refused.errors.some((e) => e.property === ".children.0.iin" && e.name === "format"),
      JSON.stringify(refused.errors),
    );
    await page.screenshot({ path: `${ARTIFACTS}/${FILLED_SERVICE}__ui-refuses-wrong-iin__${lang}.png`, fullPage: true });

    await page.fill("#root_children_0_iin", child);
    await page.click("button[type=submit]");
    await page.waitForFunction(() => window.submitted !== undefined);
    const formData = await page.evaluate(() => window.submitted);
    await page.screenshot({ path: `${ARTIFACTS}/${FILLED_SERVICE}__filled__${lang}.png`, fullPage: true });
    assert.deepEqual(formData, {
      applicant: { iin: applicantIin, last_name: "Нурланова", first_name: "Алия" },
      children: [{ iin: child, last_name: "Нурланов", first_name: "Арман", school: "Школа-лицей № 65, Астана" }],
      child_category: "low_income_no_assistance",
      personal_data_consent: true,
    });

    const body = { service_key: FILLED_SERVICE, channel: "portal", provider_id: PROVIDER, form: formData };
    const res = await fetch(`${BASE}/api/v1/applications`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        "Content-Type": "application/json",
        "Idempotency-Key": `forms-${randomUUID()}`,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 201, `POST /api/v1/applications: ${text}`);
    const app = JSON.parse(text);
    assert.equal(app.service_key, FILLED_SERVICE);
    assert.equal(app.status, "submitted");
    writeFileSync(`${ARTIFACTS}/${FILLED_SERVICE}__filed.json`, JSON.stringify({ sent: body, got: app }, null, 2));
    assert.deepEqual(pageErrors, [], "the page logged errors");
  } finally {
    await page.close();
  }
});
