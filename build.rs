// embed_migrations! does not notice a new migration by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
