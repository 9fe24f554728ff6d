//! The served spec is the committed `openapi.yaml`, as data.

use e2e::e2e;
use serde_json::Value;

e2e!(served_spec_equals_committed_openapi_yaml, |app| {
    let (s, served) = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let committed: Value = serde_yaml::from_str(&std::fs::read_to_string(path).expect("openapi.yaml exists")).unwrap();
    assert!(
        served == committed,
        "the served spec differs from openapi.yaml; regenerate with `cargo run -p api -- openapi > openapi.yaml`"
    );
    assert_eq!(served["openapi"], "3.1.0");
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("swagger"), "Swagger UI is served offline from the binary");
});
