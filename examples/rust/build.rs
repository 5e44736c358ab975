//! Generates the partnerlink client with progenitor from the committed OpenAPI 3.0
//! rendition (progenitor reads 3.0 only). The generated code lands in OUT_DIR.

use std::path::{Path, PathBuf};

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi-3.0.json");
    println!("cargo:rerun-if-changed={}", src.display());
    let file =
        std::fs::File::open(&src).unwrap_or_else(|e| panic!("cannot open {}: {e}", src.display()));
    let spec: openapiv3::OpenAPI = serde_json::from_reader(file)
        .unwrap_or_else(|e| panic!("{} is not an OpenAPI 3.0 document: {e}", src.display()));
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Builder);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .unwrap_or_else(|e| panic!("progenitor cannot generate a client: {e}"));
    let ast: syn::File = syn::parse2(tokens).expect("progenitor emitted invalid Rust");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("partnerlink.rs");
    std::fs::write(&out, prettyplease::unparse(&ast)).expect("write the generated client");
}
