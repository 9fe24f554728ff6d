// The migrations are embedded at compile time (`embed_migrations!`): rebuild when one is added or
// changed, or a binary would silently run an older schema than the folder holds.
fn main() {
    println!("cargo:rerun-if-changed=../migrations/sqlite");
    println!("cargo:rerun-if-changed=../migrations/postgres");
}
