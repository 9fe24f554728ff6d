//! Embeds every catalog file (`catalog/services/*.yaml`) so the domain crate needs no file I/O at run
//! time and a new service file is picked up without touching code.
use std::{env, fs, path::Path};

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build script compiled in one
    // checkout must not embed another checkout's catalog.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("catalog");
    println!("cargo:rerun-if-changed={}", dir.join("services").display());
    println!("cargo:rerun-if-changed={}", dir.join("shared").display());
    let mut files: Vec<_> = fs::read_dir(dir.join("services"))
        .expect("domain/catalog/services exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut out = String::from("pub static SERVICE_FILES: &[(&str, &str)] = &[\n");
    for p in &files {
        let stem = p.file_stem().unwrap().to_string_lossy();
        out += &format!("    ({stem:?}, include_str!({:?})),\n", p.display().to_string());
    }
    out += "];\n";
    out += &format!(
        "pub static SHARED_GROUNDS: &str = include_str!({:?});\n",
        dir.join("shared/refusal_grounds.yaml").display().to_string()
    );
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("catalog_files.rs"), out).unwrap();
}
