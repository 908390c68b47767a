//! `copc_options`: key/value settings for opening readers and for writing.

use super::{Failure, FfiResult, borrow_mut, c_str, copc_status, free_box, guard, guard_value, into_raw, out_ptr};
use crate::ReaderOptions;
use crate::writer::{WriterOptions, parse_offset, parse_scale, parse_size};
use std::ffi::c_char;
use std::time::Duration;

/// Settings for `copc_reader_open`, `copc_reader_open_io`, `copc_writer_create` and
/// `copc_translate`, set one key at a time with `copc_options_set`. Every value is
/// checked when it is set. Keys a call does not use are ignored by it.
///
/// Reading and writing:
/// * `"threads"`: threads for decoding / building, an integer >= 0 (0, the default:
///   all cores).
///
/// Reading (also how `copc_translate` reads inputs given as URLs):
/// * `"http_header"`: `"Name: value"`, sent with every HTTP(S) request; repeatable
///   (each call appends one header).
/// * `"http_retries"`: retries after a transient HTTP failure, integer >= 0 (default 8).
/// * `"http_timeout_ms"`: limit for one HTTP request in milliseconds, > 0 (default 60000).
/// * `"http_connect_timeout_ms"`: limit for connecting, in milliseconds, > 0 (default 10000).
/// * `"requests"`: HTTP requests in flight at once, >= 1 (default 10).
/// * Object stores (`s3://`, `az://`, `gs://`; each overrides the environment variable named):
///   `"s3_access_key_id"` (AWS_ACCESS_KEY_ID), `"s3_secret_access_key"`
///   (AWS_SECRET_ACCESS_KEY), `"s3_session_token"` (AWS_SESSION_TOKEN), `"s3_profile"`
///   (AWS_PROFILE), `"s3_region"` (AWS_REGION), `"s3_endpoint"` (AWS_ENDPOINT_URL, e.g.
///   `"http://127.0.0.1:9000"`), `"s3_path_style"` and `"s3_anonymous"` (`"yes"`/`"no"`;
///   AWS_VIRTUAL_HOSTING, AWS_NO_SIGN_REQUEST), `"azure_account"`
///   (AZURE_STORAGE_ACCOUNT_NAME), `"azure_key"` (AZURE_STORAGE_ACCOUNT_KEY),
///   `"azure_sas"` (AZURE_STORAGE_SAS_TOKEN), `"azure_connection_string"`
///   (AZURE_STORAGE_CONNECTION_STRING), `"azure_endpoint"`, `"azure_anonymous"`,
///   `"gs_credentials"` (GOOGLE_APPLICATION_CREDENTIALS: a service-account or
///   authorized-user JSON file), `"gs_endpoint"` (STORAGE_EMULATOR_HOST, CPL_GS_ENDPOINT),
///   `"gs_anonymous"` (GS_NO_SIGN_REQUEST).
///   Secret values never appear in messages.
///
/// Writing (the options of `copc translate`):
/// * `"memory_limit"`: memory for points, e.g. `"512M"`, `"2G"` (default: half the
///   RAM); beyond it points spill to `temp_dir`.
/// * `"temp_dir"`: folder for spill files and the writer's temporary points file
///   (only for points beyond `memory_limit`; default: the system's temp folder).
/// * `"temp_compression"`: how spilled points are stored: `"none"`, `"lz4"` (default),
///   `"zstd"` or `"laz"` (less temp disk for more CPU; the output is the same).
/// * `"scale"`: `"X"` or `"X,Y,Z"` (default: the inputs'; for `copc_writer_*` 0.001).
/// * `"offset"`: `"X,Y,Z"` or `"auto"` (default: the inputs'; for `copc_writer_*` the
///   centre of the first points).
/// * `"a_srs"`: the output CRS, WKT or `"EPSG:n"`.
/// * `"max_points_per_node"`: most points in an octree node, >= 1 (default 100000).
/// * `"point_format"`: 6, 7 (RGB) or 8 (RGB, NIR) for `copc_writer_*` (default: from
///   the columns of the first `copc_writer_add_points`).
/// * Header fields of the output, named as PDAL's writers.las / writers.copc options
///   (default: the input's when `copc_translate` has one input, else the writer's):
///   `"filesource_id"` (0-65535), `"global_encoding"` (0, 1, 16 or 17: only bit 0, the
///   GPS time type, may be chosen; bit 4, WKT, is always set), `"project_id"` (the GUID
///   as PDAL spells it, `"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"` in hexadecimal digits:
///   the 16 header bytes in file order), `"system_id"` and `"software_id"` (at most 32
///   bytes; default system id for `copc_writer_*`: empty, software id: `"copc <version>"`),
///   `"creation_doy"` (1-366, 0 for not recorded) and `"creation_year"` (0-65535).
///   VLRs to copy into the file: `copc_writer_add_vlr`.
/// * `"test_panic"`: panics inside the library on purpose, to test that a Rust panic
///   comes back as `COPC_STATUS_PANIC` and the process goes on. Never use it otherwise.
///
/// Thread safety: not synchronized; setting options from two threads at once needs a
/// lock. Once set up, one `copc_options` may be passed (const) to any number of open
/// calls, from any threads; those calls copy what they need.
#[derive(Default)]
pub struct copc_options {
    pub(crate) reader: ReaderOptions,
    pub(crate) writer: WriterOptions,
    pub(crate) point_format: Option<u8>,
}

fn integer<T: std::str::FromStr>(key: &str, value: &str, what: &str) -> FfiResult<T> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| Failure::invalid(format!("option {key}: '{value}' is not {what}")))
}

/// yes/no, true/false, on/off, 1/0 (any case).
fn yes_no(key: &str, value: &str) -> FfiResult<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(Failure::invalid(format!("option {key}: '{value}' is not yes or no"))),
    }
}

/// A non-empty string (never quoted back in a message: it may be a secret).
fn text(key: &str, value: &str) -> FfiResult<Option<String>> {
    if value.trim().is_empty() {
        return Err(Failure::invalid(format!("option {key}: empty value")));
    }
    Ok(Some(value.trim().to_string()))
}

fn millis(key: &str, value: &str) -> FfiResult<Duration> {
    match integer::<u64>(key, value, "a number of milliseconds")? {
        0 => Err(Failure::invalid(format!("option {key}: must be at least 1 ms"))),
        ms => Ok(Duration::from_millis(ms)),
    }
}

impl copc_options {
    fn set(&mut self, key: &str, value: &str) -> FfiResult<()> {
        let http = &mut self.reader.http;
        match key {
            "threads" => {
                let n: usize = integer(key, value, "a thread count (0 = all cores)")?;
                self.reader.threads = (n > 0).then_some(n);
                self.writer.threads = (n > 0).then_some(n);
            }
            "http_header" => {
                let (name, v) = value
                    .split_once(':')
                    .filter(|(n, _)| !n.trim().is_empty())
                    .ok_or_else(|| Failure::invalid(format!("option http_header: '{value}' is not 'Name: value'")))?;
                http.headers.push((name.trim().to_string(), v.trim().to_string()));
            }
            "http_retries" => http.max_retries = integer(key, value, "a retry count >= 0")?,
            "http_timeout_ms" => http.timeout = millis(key, value)?,
            "http_connect_timeout_ms" => http.connect_timeout = millis(key, value)?,
            "requests" => match integer::<usize>(key, value, "a request count >= 1")? {
                0 => return Err(Failure::invalid("option requests: must be at least 1")),
                n => http.concurrency = n,
            },
            "s3_access_key_id" => http.store.s3_access_key_id = text(key, value)?,
            "s3_secret_access_key" => http.store.s3_secret_access_key = text(key, value)?,
            "s3_session_token" => http.store.s3_session_token = text(key, value)?,
            "s3_profile" => http.store.s3_profile = text(key, value)?,
            "s3_region" => http.store.s3_region = text(key, value)?,
            "s3_endpoint" => {
                if !(value.starts_with("http://") || value.starts_with("https://")) {
                    return Err(Failure::invalid(format!(
                        "option s3_endpoint: '{value}' is not an http:// or https:// URL"
                    )));
                }
                http.store.s3_endpoint = text(key, value)?;
            }
            "s3_path_style" => http.store.s3_path_style = Some(yes_no(key, value)?),
            "s3_anonymous" => http.store.s3_anonymous = Some(yes_no(key, value)?),
            "azure_account" => http.store.azure_account = text(key, value)?,
            "azure_key" => http.store.azure_key = text(key, value)?,
            "azure_sas" => http.store.azure_sas = text(key, value)?,
            "azure_connection_string" => http.store.azure_connection_string = text(key, value)?,
            "azure_endpoint" => {
                if !(value.starts_with("http://") || value.starts_with("https://")) {
                    return Err(Failure::invalid(format!(
                        "option azure_endpoint: '{value}' is not an http:// or https:// URL"
                    )));
                }
                http.store.azure_endpoint = text(key, value)?;
            }
            "azure_anonymous" => http.store.azure_anonymous = Some(yes_no(key, value)?),
            "gs_credentials" => http.store.gs_credentials = text(key, value)?,
            "gs_endpoint" => {
                if !value.starts_with("http://") && !value.starts_with("https://") {
                    return Err(Failure::invalid(format!(
                        "option gs_endpoint: '{value}' is not an http:// or https:// URL"
                    )));
                }
                http.store.gs_endpoint = text(key, value)?;
            }
            "gs_anonymous" => http.store.gs_anonymous = Some(yes_no(key, value)?),
            "memory_limit" => self.writer.memory_limit = Some(parse_size(value)?),
            "temp_dir" => {
                if value.is_empty() {
                    return Err(Failure::invalid("option temp_dir: empty path"));
                }
                self.writer.temp_dir = Some(value.into());
            }
            "temp_compression" => {
                self.writer.temp_compression = crate::writer::TempCompression::parse(value)
                    .map_err(|e| Failure::invalid(format!("option temp_compression: {}", e.detail())))?;
            }
            "scale" => self.writer.scale = Some(parse_scale(value)?),
            "offset" => self.writer.offset = Some(parse_offset(value)?),
            "a_srs" => {
                if value.trim().is_empty() {
                    return Err(Failure::invalid("option a_srs: empty (give WKT or EPSG:n)"));
                }
                // checked now, as every option, not when the file is written
                crate::writer::crs::parse_a_srs(value).map_err(|e| Failure::invalid(format!("option a_srs: {e}")))?;
                self.writer.a_srs = Some(value.to_string());
            }
            "max_points_per_node" => match integer::<usize>(key, value, "a point count >= 1")? {
                0 => return Err(Failure::invalid("option max_points_per_node: must be at least 1")),
                n => self.writer.max_points_per_node = n,
            },
            "point_format" => match integer::<u8>(key, value, "a point format (6, 7 or 8)")? {
                f @ 6..=8 => self.point_format = Some(f),
                f => {
                    return Err(Failure::invalid(format!(
                        "option point_format: {f} (COPC holds formats 6, 7 and 8)"
                    )));
                }
            },
            k if crate::writer::header::FIELD_NAMES.contains(&k) => {
                self.writer.header.set(k, value)?;
            }
            "test_panic" => panic!("test_panic option set: a deliberate panic to test the C boundary"),
            _ => {
                return Err(Failure::invalid(format!(
                    "unknown option '{key}' (known: threads, http_header, http_retries, http_timeout_ms, \
                     http_connect_timeout_ms, requests, s3_access_key_id, s3_secret_access_key, \
                     s3_session_token, s3_profile, s3_region, s3_endpoint, s3_path_style, s3_anonymous, \
                     azure_account, azure_key, azure_sas, azure_connection_string, azure_endpoint, \
                     azure_anonymous, gs_credentials, gs_endpoint, gs_anonymous, memory_limit, temp_dir, \
                     temp_compression, scale, offset, a_srs, max_points_per_node, point_format, filesource_id, \
                     global_encoding, project_id, system_id, software_id, creation_doy, creation_year)"
                )));
            }
        }
        Ok(())
    }
}

/// The same settings for other faces of the library (the Python package): one key at a
/// time with the C ABI's parsing and messages, so every face names and checks options
/// alike.
impl copc_options {
    /// Sets option `key` to `value` as `copc_options_set` does; an unknown key or a value
    /// that does not parse is `Error::InvalidArgument` (secret values are never quoted).
    pub fn set_option(&mut self, key: &str, value: &str) -> crate::Result<()> {
        self.set(key, value).map_err(|f| crate::Error::InvalidArgument(f.message))
    }

    /// What the reading keys set.
    pub fn reader_options(&self) -> ReaderOptions {
        self.reader.clone()
    }

    /// What the writing keys set (URL inputs read with the reading keys), and the
    /// `point_format` key.
    pub fn writer_options(&self) -> (WriterOptions, Option<u8>) {
        (WriterOptions { http: self.reader.http.clone(), ..self.writer.clone() }, self.point_format)
    }
}

/// Writer options and point format of an optional `copc_options` pointer (NULL: defaults).
///
/// # Safety
/// `o` is NULL or a live `copc_options`.
pub(crate) unsafe fn writer_options(o: *const copc_options) -> (WriterOptions, Option<u8>) {
    unsafe { o.as_ref() }
        // URL inputs are read with the reading keys (http_*, requests, s3_*, azure_*, gs_*)
        .map(|o| (WriterOptions { http: o.reader.http.clone(), ..o.writer.clone() }, o.point_format))
        .unwrap_or_default()
}

/// Reader options of an optional `copc_options` pointer (NULL: defaults).
///
/// # Safety
/// `o` is NULL or a live `copc_options`.
pub(crate) unsafe fn reader_options(o: *const copc_options) -> ReaderOptions {
    unsafe { o.as_ref() }.map(|o| o.reader.clone()).unwrap_or_default()
}

/// Creates an empty set of options (every setting at its default) in `*out`; free it
/// with `copc_options_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_options_new(out: *mut *mut copc_options) -> copc_status {
    guard("copc_options_new", || {
        let out = out_ptr(out, "out")?;
        unsafe { *out = into_raw(copc_options::default()) };
        Ok(())
    })
}

/// Sets option `key` to `value` (see `copc_options` for the keys). An unknown key or
/// a value that does not parse gives `COPC_STATUS_INVALID_ARGUMENT` and leaves the
/// options as they were.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_options_set(
    o: *mut copc_options,
    key: *const c_char,
    value: *const c_char,
) -> copc_status {
    guard("copc_options_set", || {
        let o = unsafe { borrow_mut(o, "o")? };
        let key = unsafe { c_str(key, "key")? };
        let value = unsafe { c_str(value, "value")? };
        o.set(key, value)
    })
}

/// Frees options made by `copc_options_new`; NULL is a no-op.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn copc_options_free(o: *mut copc_options) {
    guard_value("copc_options_free", (), || unsafe { free_box(o) })
}
