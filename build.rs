//! Link settings of the binaries.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name| std::env::var(name).unwrap_or_default();
    // The binary's 139,000 relative relocations (pointers in the statics of the linked
    // crates) packed as DT_RELR: the loader reads a 3 MB table and applies it before
    // `main` on every start. glibc reads DT_RELR since 2.36; GNU ld (2.38+) and lld
    // add it only when the glibc linked against has it, so older hosts are unchanged.
    // The dist binaries are static musl builds, which this does not touch.
    if var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
