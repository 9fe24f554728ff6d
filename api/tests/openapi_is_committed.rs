//! `openapi.yaml` is the committed copy of the spec the code produces; this fails when it is stale.

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let generated = api::openapi::spec().to_yaml().expect("spec serialises");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("openapi.yaml is writable");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let as_data = |s: &str| serde_yaml::from_str::<serde_json::Value>(s).ok();
    assert!(
        as_data(&committed).is_some() && as_data(&committed) == as_data(&generated),
        "openapi.yaml is stale: it differs from what the routes produce.\n\
         Regenerate it with:\n    cargo run -p api -- openapi > openapi.yaml\n\
         (or UPDATE_OPENAPI=1 cargo test -p api --test openapi_is_committed) and commit the result."
    );
}
