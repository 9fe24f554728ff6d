//! Issue 14, item 8: any number of instances may start at once on an empty PostgreSQL database. The
//! migrations run under an advisory lock: one instance applies them, the others wait and find nothing
//! left to do. Without the lock the second instance died in the migrations.

use std::sync::{Arc, Barrier};

#[test]
fn eight_instances_start_together_on_an_empty_postgres_database() {
    let Some((url, _drop)) = e2e::throwaway_postgres() else { return };
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                persistence::Database::connect(&url, 2).map(|db| db.ping())
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let result = h.join().expect("no panic");
        assert!(matches!(result, Ok(Ok(()))), "instance {i}: {result:?}");
    }
    // Every migration is recorded once.
    let db = persistence::Database::connect(&url, 1).unwrap();
    let applied = db
        .read(|c| {
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations").get_result::<Count>(c)?.n)
        })
        .unwrap();
    let expected = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/postgres")).unwrap().count();
    assert_eq!(applied as usize, expected);
}
