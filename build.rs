//! Generates the C header `copc.h` from `src/ffi` with cbindgen into OUT_DIR. The
//! committed `include/copc.h` must equal it byte for byte (a test checks);
//! `COPC_UPDATE_HEADER=1 cargo build` copies the fresh one over it. On Linux the
//! cdylib gets the SONAME `libcopc.so.<major>`.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    for p in ["cbindgen.toml", "src/ffi", "build.rs", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-env-changed=COPC_UPDATE_HEADER");

    // `copc --version` names the LAZ/LAS crates it was built with: they decide which files decode.
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap_or_default();
    for (name, var) in [("laz", "COPC_LAZ_VERSION"), ("las", "COPC_LAS_VERSION")] {
        println!("cargo:rustc-env={var}={}", locked_version(&lock, name).unwrap_or("unknown"));
    }

    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("version");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("version");
    let patch = std::env::var("CARGO_PKG_VERSION_PATCH").expect("version");

    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcopc.so.{major}");
    }

    let mut config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(format!(
        "\n/* The version of this header; copc_version_number() and copc_version_string() give the library's. */\n\
         #define COPC_VERSION_MAJOR {major}\n\
         #define COPC_VERSION_MINOR {minor}\n\
         #define COPC_VERSION_PATCH {patch}\n\
         #define COPC_VERSION_STRING \"{major}.{minor}.{patch}\"\n\
         /* (MAJOR << 16) | (MINOR << 8) | PATCH, as copc_version_number() */\n\
         #define COPC_VERSION_NUMBER ((COPC_VERSION_MAJOR << 16) | (COPC_VERSION_MINOR << 8) | COPC_VERSION_PATCH)\n\
         \n\
         /* The dimension-mask bit of a standard dimension id (copc_query_set_dims). */\n\
         #define COPC_DIM_BIT(dim) (UINT64_C(1) << (dim))\n"
    ));
    let header = out.join("copc.h");
    match cbindgen::Builder::new().with_src(dir.join("src/ffi/mod.rs")).with_config(config).generate() {
        Ok(b) => {
            b.write_to_file(&header);
        }
        Err(e) => panic!("cbindgen cannot generate copc.h: {e}"),
    }
    if std::env::var("COPC_UPDATE_HEADER").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::create_dir_all(dir.join("include")).expect("include/");
        std::fs::copy(&header, dir.join("include/copc.h")).expect("copy copc.h to include/");
    }
}

/// The version of package `name` in a Cargo.lock (`name = "laz"` then `version = "0.13.0"`).
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let entry = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&entry)? + entry.len();
    lock[start..].split('"').next()
}
