// A page that renders one application form of the API with react-jsonschema-form (its core theme),
// validating with AJV's draft 2020-12 class, as a front end would. forms.test.mjs loads it in headless
// Chromium and calls window.renderForm({schema, formData, lang}); a submitted form lands in
// window.submitted (with window.submitErrors for what the validator refused).
import React from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020.js";
import { isBin, isIin } from "./identity.mjs";
import { uiSchemaFor } from "./ui.mjs";

const validator = customizeValidator({ AjvClass: Ajv2020, customFormats: { iin: isIin, bin: isBin } });

const SUBMIT = { kk: "Жіберу", ru: "Отправить", en: "Submit" };

window.renderForm = ({ schema, formData, lang }) => {
  window.submitted = undefined;
  window.submitErrors = undefined;
  document.documentElement.lang = lang;
  const uiSchema = { ...uiSchemaFor(schema, lang), "ui:submitButtonOptions": { submitText: SUBMIT[lang] } };
  const root = createRoot(document.getElementById("root"));
  root.render(
    <Form
      schema={schema}
      uiSchema={uiSchema}
      formData={formData}
      validator={validator}
      showErrorList="top"
      onSubmit={({ formData }) => {
        window.submitted = formData;
      }}
      onError={(errors) => {
        window.submitErrors = errors.map((e) => ({ property: e.property, name: e.name, message: e.message }));
      }}
    />,
  );
};
window.pageReady = true;
