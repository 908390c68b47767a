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
         #define COPC_DIM_BIT(dim) (UINT64_C(1) << (dim))\n\
         {ARROW_C_INTERFACE}"
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

/// The Arrow C data interface and C stream interface structs exactly as the Arrow
/// specification defines them (arrow.apache.org, "The Arrow C data interface" and "The
/// Arrow C stream interface"), inside its guards: a unit that also includes
/// arrow/c/abi.h, nanoarrow.h or GDAL's ogr_recordbatch.h gets one definition.
const ARROW_C_INTERFACE: &str = r#"
/* The Arrow C data interface and C stream interface (copc_reader_query_arrow), as the
   Arrow specification defines them, under its guards. GDAL 3.6's ogr_recordbatch.h
   defines all three without the guards but with the ARROW_FLAG_* macros: after it,
   they count as defined (include it, or ogrsf_frmts.h, before copc.h). */
#if defined(ARROW_FLAG_DICTIONARY_ORDERED) && !defined(ARROW_C_DATA_INTERFACE)
#define ARROW_C_DATA_INTERFACE
#define ARROW_C_STREAM_INTERFACE
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  /* Array type description */
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;

  /* Release callback */
  void (*release)(struct ArrowSchema*);
  /* Opaque producer-specific data */
  void* private_data;
};

struct ArrowArray {
  /* Array data description */
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;

  /* Release callback */
  void (*release)(struct ArrowArray*);
  /* Opaque producer-specific data */
  void* private_data;
};

#endif  /* ARROW_C_DATA_INTERFACE */

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  /* Callback to get the stream type (the same for all arrays in the stream).
     Return value: 0 if successful, an `errno`-compatible error code otherwise.
     If successful, the ArrowSchema must be released independently from the stream. */
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);

  /* Callback to get the next array (if no error and the array is released, the
     stream has ended).
     Return value: 0 if successful, an `errno`-compatible error code otherwise.
     If successful, the ArrowArray must be released independently from the stream. */
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);

  /* Callback to get optional detailed error information. This must only be called
     if the last stream operation failed with a non-0 return code.
     Return value: pointer to a null-terminated character array describing the last
     error, or NULL if no description is available. The returned pointer is only
     valid until the next operation on this stream (including release). */
  const char* (*get_last_error)(struct ArrowArrayStream*);

  /* Release callback: release the stream's own resources. Note that arrays returned
     by `get_next` must be individually released. */
  void (*release)(struct ArrowArrayStream*);

  /* Opaque producer-specific data */
  void* private_data;
};

#endif  /* ARROW_C_STREAM_INTERFACE */
"#;

/// The version of package `name` in a Cargo.lock (`name = "laz"` then `version = "0.13.0"`).
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let entry = format!("name = \"{name}\"\nversion = \"");
    let start = lock.find(&entry)? + entry.len();
    lock[start..].split('"').next()
}
