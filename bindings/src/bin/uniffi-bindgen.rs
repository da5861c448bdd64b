//! Generates the Kotlin and Swift bindings from the built library (library mode); see
//! `scripts/bindings.sh`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
