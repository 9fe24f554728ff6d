// What a form's JSON Schema cannot say to a renderer: the labels of enum values (`x-enum-titles`, in
// kk/ru/en) become react-jsonschema-form's `ui:enumNames` in the chosen language.

export function uiSchemaFor(schema, lang) {
  if (!schema || typeof schema !== "object") return {};
  const ui = {};
  const titles = schema["x-enum-titles"];
  if (Array.isArray(schema.enum) && titles) {
    ui["ui:enumNames"] = schema.enum.map((v) => titles[v]?.[lang] ?? String(v));
  }
  const props = { ...(schema.properties ?? {}) };
  for (const part of [schema, ...(schema.allOf ?? [])]) {
    for (const branch of [part.then, part.else]) Object.assign(props, branch?.properties ?? {});
  }
  for (const [name, sub] of Object.entries(props)) {
    const child = uiSchemaFor(sub, lang);
    if (Object.keys(child).length) ui[name] = child;
  }
  if (schema.items && typeof schema.items === "object") {
    const items = uiSchemaFor(schema.items, lang);
    if (Object.keys(items).length) ui.items = items;
  }
  return ui;
}
