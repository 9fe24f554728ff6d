//! The SQLite and PostgreSQL migrations describe one schema: every migration exists for both backends
//! and, comments aside, differs only in the few column types the backends spell differently. This
//! keeps the "one code path" honest: a column added on one side only fails here, not in production.
//!
//! What the backends cannot say alike (triggers: SQLite's `RAISE` against PostgreSQL's trigger
//! functions) stands between `-- backend-specific: begin` and `-- backend-specific: end`; such blocks
//! must appear at the same places on both sides, and only their content may differ.

use std::fs;
use std::path::Path;

/// The only spellings allowed to differ, as (SQLite, PostgreSQL).
const ALLOWED: &[(&str, &str)] = &[("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"), ("BLOB", "BYTEA")];

const BEGIN: &str = "-- backend-specific: begin";
const END: &str = "-- backend-specific: end";

/// The text with each backend-specific block replaced by one marker line.
fn without_specific_blocks(path: &Path, text: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        match line.trim() {
            BEGIN if !inside => {
                inside = true;
                out.push("BACKEND-SPECIFIC BLOCK");
            }
            END if inside => inside = false,
            BEGIN | END => panic!("{}: unbalanced backend-specific markers", path.display()),
            _ if inside => {}
            _ => out.push(line),
        }
    }
    assert!(!inside, "{}: a backend-specific block is not closed", path.display());
    out.join("\n")
}

fn normalised(path: &Path, sqlite: bool) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = without_specific_blocks(path, &text);
    let mut sql: String = text
        .lines()
        .map(|l| l.split("--").next().unwrap_or("").trim_end())
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if sqlite {
        for (from, to) in ALLOWED {
            sql = sql.replace(from, to);
        }
    }
    sql
}

#[test]
fn sqlite_and_postgres_migrations_describe_the_same_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let names = |backend: &str| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| !n.starts_with('.'))
            .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert_eq!(sqlite, names("postgres"), "the same migrations must exist for both backends");
    assert!(!sqlite.is_empty());
    for name in &sqlite {
        for file in ["up.sql", "down.sql"] {
            let a = normalised(&root.join("sqlite").join(name).join(file), true);
            let b = normalised(&root.join("postgres").join(name).join(file), false);
            assert_eq!(a, b, "{name}/{file}: the backends differ beyond {ALLOWED:?}");
        }
    }
}
