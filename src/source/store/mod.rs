//! Object stores: `s3://bucket/key`, `az://container/blob` (also `azure://`, and
//! `https://ACCOUNT.blob.core.windows.net/...` when an Azure key or SAS is set) and
//! `gs://bucket/object` (Google Cloud Storage).
//!
//! An object store is not a second HTTP client: the object's HTTPS address goes to
//! the one request engine ([`super::HttpSource`]: planning, merging, concurrency,
//! retries, answer checks, counters), with a [`RequestSigner`] that signs each
//! request. Signing and the credential chains are the `reqsign` crates' (Apache
//! OpenDAL), driven through our ureq client and `std::fs`, so no async runtime runs.
//!
//! Settings come from [`StoreOptions`] first, then from the environment the clouds'
//! own tools read (README, "Object stores").

mod azure;
mod gcs;
mod s3;

use super::HttpSource;
use super::http::HttpOptions;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Credentials and addresses for object stores. Each `Some` overrides the matching
/// environment variable (named in brackets). Secrets never appear in messages, and
/// `Debug` prints only whether they are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// S3 access key id (`AWS_ACCESS_KEY_ID`); with `s3_secret_access_key`.
    pub s3_access_key_id: Option<String>,
    /// S3 secret (`AWS_SECRET_ACCESS_KEY`).
    pub s3_secret_access_key: Option<String>,
    /// S3 session token of temporary credentials (`AWS_SESSION_TOKEN`).
    pub s3_session_token: Option<String>,
    /// Profile of the shared credentials/config files (`AWS_PROFILE`).
    pub s3_profile: Option<String>,
    /// Region (`AWS_REGION`, `AWS_DEFAULT_REGION`); found from the bucket when unset.
    pub s3_region: Option<String>,
    /// An S3-compatible endpoint such as `http://127.0.0.1:9000` (`AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`); path-style addressing is then the default.
    pub s3_endpoint: Option<String>,
    /// `https://ENDPOINT/BUCKET/KEY` (true) or `https://BUCKET.ENDPOINT/KEY` (false)
    /// (`AWS_VIRTUAL_HOSTING=FALSE|TRUE`, as GDAL spells it).
    pub s3_path_style: Option<bool>,
    /// Unsigned requests, for public buckets (`AWS_NO_SIGN_REQUEST=YES`).
    pub s3_anonymous: Option<bool>,
    /// Azure storage account (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT`).
    pub azure_account: Option<String>,
    /// Azure account key (`AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_ACCESS_KEY`).
    pub azure_key: Option<String>,
    /// Azure SAS token, with or without the leading `?` (`AZURE_STORAGE_SAS_TOKEN`).
    pub azure_sas: Option<String>,
    /// Azure connection string (`AZURE_STORAGE_CONNECTION_STRING`): `AccountName`,
    /// `AccountKey`, `SharedAccessSignature`, `BlobEndpoint`, `DefaultEndpointsProtocol`.
    pub azure_connection_string: Option<String>,
    /// Blob endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1` for Azurite
    /// (`AZURE_STORAGE_BLOB_ENDPOINT`; default `https://ACCOUNT.blob.core.windows.net`).
    pub azure_endpoint: Option<String>,
    /// Unsigned requests, for public containers (`AZURE_NO_SIGN_REQUEST=YES`).
    pub azure_anonymous: Option<bool>,
    /// Google credentials file: a service-account key or authorized-user JSON
    /// (`GOOGLE_APPLICATION_CREDENTIALS`; else gcloud's application default
    /// credentials, else the GCE metadata server).
    pub gs_credentials: Option<String>,
    /// Google Cloud Storage endpoint (XML API), e.g. `http://127.0.0.1:9023` for an
    /// emulator (`STORAGE_EMULATOR_HOST`, `CPL_GS_ENDPOINT`; default
    /// `https://storage.googleapis.com`).
    pub gs_endpoint: Option<String>,
    /// Unsigned requests, for public buckets (`GS_NO_SIGN_REQUEST=YES`; the default
    /// when the endpoint comes from `STORAGE_EMULATOR_HOST`).
    pub gs_anonymous: Option<bool>,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| if v.is_some() { "(set)" } else { "(unset)" };
        f.debug_struct("StoreOptions")
            .field("s3_access_key_id", &secret(&self.s3_access_key_id))
            .field("s3_secret_access_key", &secret(&self.s3_secret_access_key))
            .field("s3_session_token", &secret(&self.s3_session_token))
            .field("s3_profile", &self.s3_profile)
            .field("s3_region", &self.s3_region)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_path_style", &self.s3_path_style)
            .field("s3_anonymous", &self.s3_anonymous)
            .field("azure_account", &self.azure_account)
            .field("azure_key", &secret(&self.azure_key))
            .field("azure_sas", &secret(&self.azure_sas))
            .field("azure_connection_string", &secret(&self.azure_connection_string))
            .field("azure_endpoint", &self.azure_endpoint)
            .field("azure_anonymous", &self.azure_anonymous)
            .field("gs_credentials", &self.gs_credentials)
            .field("gs_endpoint", &self.gs_endpoint)
            .field("gs_anonymous", &self.gs_anonymous)
            .finish()
    }
}

/// Whether `location` names an object in a store (rather than a file or plain URL).
pub(crate) fn is_store_url(location: &str, opts: &StoreOptions) -> bool {
    store_kind(location, opts).is_some()
}

enum Kind<'a> {
    S3 { bucket: &'a str, key: &'a str },
    Azure { account: Option<&'a str>, container: &'a str, blob: &'a str },
    Gcs { bucket: &'a str, object: &'a str },
}

fn store_kind<'a>(location: &'a str, opts: &StoreOptions) -> Option<Kind<'a>> {
    let (scheme, rest) = location.split_once("://")?;
    let split = |rest: &'a str| rest.split_once('/').unwrap_or((rest, ""));
    match scheme.to_ascii_lowercase().as_str() {
        "s3" => {
            let (bucket, key) = split(rest);
            Some(Kind::S3 { bucket, key })
        }
        "az" | "azure" => {
            let (container, blob) = split(rest);
            Some(Kind::Azure { account: None, container, blob })
        }
        "gs" => {
            let (bucket, object) = split(rest);
            Some(Kind::Gcs { bucket, object })
        }
        "https" | "http" => {
            // https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB, signed only when
            // Azure credentials are configured (else it is a plain, maybe public, URL).
            let (host, path) = split(rest);
            let account = host.strip_suffix(".blob.core.windows.net")?;
            if !azure::credentials_configured(opts, &OsEnvLookup) {
                return None;
            }
            let path = path.split(['?', '#']).next().unwrap_or("");
            let (container, blob) = path.split_once('/').unwrap_or((path, ""));
            Some(Kind::Azure { account: Some(account), container, blob })
        }
        _ => None,
    }
}

/// Opens an object named by an `s3://`, `az://`, `azure://` (or Azure https) or `gs://` URL.
pub(crate) fn open(location: &str, http: &HttpOptions) -> Result<HttpSource> {
    let env = OsEnvLookup;
    match store_kind(location, &http.store) {
        Some(Kind::S3 { bucket, key }) => s3::open(location, bucket, key, http, &env),
        Some(Kind::Azure { account, container, blob }) => azure::open(location, account, container, blob, http, &env),
        Some(Kind::Gcs { bucket, object }) => gcs::open(location, bucket, object, http, &env),
        None => Err(Error::InvalidArgument(format!("{location}: not an object store URL"))),
    }
}

/// Environment variables, behind a trait so tests can give their own.
pub(crate) trait Lookup {
    fn var(&self, name: &str) -> Option<String>;
}

pub(crate) struct OsEnvLookup;

impl Lookup for OsEnvLookup {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// The first of `names` that is set.
fn first_var(env: &dyn Lookup, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| env.var(n))
}

/// YES/TRUE/ON/1 (any case) as GDAL reads its boolean settings.
fn truthy(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1")
}

/// Percent-encodes a key or blob name for a URL path (`/` kept), as S3 and Azure
/// expect: everything but the unreserved characters.
fn encode_path(path: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');
    utf8_percent_encode(path, SET).to_string()
}

/// The environment reqsign's credential chains read: the options' values first,
/// then the process environment, so options override the environment there too.
#[derive(Debug, Clone, Default)]
struct LayeredEnv {
    overrides: HashMap<String, String>,
}

impl reqsign_core::Env for LayeredEnv {
    fn var(&self, key: &str) -> Option<String> {
        self.overrides.get(key).cloned().or_else(|| std::env::var(key).ok())
    }

    fn vars(&self) -> HashMap<String, String> {
        let mut all: HashMap<String, String> = std::env::vars().collect();
        all.extend(self.overrides.clone());
        all
    }

    fn home_dir(&self) -> Option<std::path::PathBuf> {
        std::env::var_os("HOME").map(Into::into)
    }
}

/// Files for the credential chains (shared config files, web-identity tokens).
#[derive(Debug)]
struct StdFileRead;

impl reqsign_core::FileRead for StdFileRead {
    async fn file_read(&self, path: &str) -> reqsign_core::Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| reqsign_core::Error::unexpected(format!("cannot read {path}: {e}")))
    }
}

/// HTTP for the credential chains (instance metadata, STS): the same blocking ureq
/// client, with short limits because these endpoints are local or near.
#[derive(Debug)]
struct UreqHttpSend {
    agent: ureq::Agent,
}

impl UreqHttpSend {
    fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(std::time::Duration::from_secs(2)))
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .build();
        UreqHttpSend { agent: ureq::Agent::new_with_config(config) }
    }
}

impl reqsign_core::HttpSend for UreqHttpSend {
    async fn http_send(
        &self,
        req: ureq::http::Request<bytes::Bytes>,
    ) -> reqsign_core::Result<ureq::http::Response<bytes::Bytes>> {
        let (parts, body) = req.into_parts();
        let response = self
            .agent
            .run(ureq::http::Request::from_parts(parts, body.to_vec()))
            .map_err(|e| reqsign_core::Error::unexpected(format!("credential request failed: {e}")))?;
        let (parts, body) = response.into_parts();
        // Credential answers are small; refuse anything large.
        let body = body
            .into_with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| reqsign_core::Error::unexpected(format!("credential answer unreadable: {e}")))?;
        Ok(ureq::http::Response::from_parts(parts, bytes::Bytes::from(body)))
    }
}

fn context(env: LayeredEnv) -> reqsign_core::Context {
    reqsign_core::Context::new().with_file_read(StdFileRead).with_http_send(UreqHttpSend::new()).with_env(env)
}

/// Runs a future to completion on this thread. The futures here do blocking I/O
/// inside, so they only wait (Pending) for the signer's credential lock, whose
/// release wakes this thread.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::park();
    }
}

/// Pulls the `<Code>` and `<Message>` out of an S3 or Azure XML error body quoted in
/// `what`; the rest of such a body (string to sign, signatures, key ids) is dropped.
fn xml_error(what: &str) -> (Option<String>, Option<String>) {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = what.find(&open)? + open.len();
        let end = what[start..].find("</")? + start;
        Some(what[start..end].trim().to_string())
    };
    (tag("Code"), tag("Message"))
}

/// "status 403 Forbidden" from the engine's "status 403 Forbidden (body...)".
fn status_part(what: &str) -> &str {
    what.split(" (").next().unwrap_or(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_told_apart() {
        let none = StoreOptions::default();
        assert!(matches!(store_kind("s3://b/k/x.laz", &none), Some(Kind::S3 { bucket: "b", key: "k/x.laz" })));
        assert!(matches!(store_kind("S3://b", &none), Some(Kind::S3 { bucket: "b", key: "" })));
        assert!(matches!(
            store_kind("az://c/d/e.laz", &none),
            Some(Kind::Azure { account: None, container: "c", blob: "d/e.laz" })
        ));
        assert!(matches!(store_kind("azure://c/e", &none), Some(Kind::Azure { .. })));
        assert!(matches!(store_kind("gs://b/d/e.laz", &none), Some(Kind::Gcs { bucket: "b", object: "d/e.laz" })));
        assert!(matches!(store_kind("GS://b", &none), Some(Kind::Gcs { bucket: "b", object: "" })));
        for plain in ["http://h/a.laz", "/data/s3://x", "a.laz", "gs:/b/k", "gcs://b/k", "/data/gs://b/k"] {
            assert!(store_kind(plain, &none).is_none(), "{plain}");
        }
        let keyed = StoreOptions { azure_key: Some("a2V5".into()), ..Default::default() };
        assert!(matches!(
            store_kind("https://acct.blob.core.windows.net/c/d.laz?x=1", &keyed),
            Some(Kind::Azure { account: Some("acct"), container: "c", blob: "d.laz" })
        ));
    }

    #[test]
    fn keys_are_encoded_but_slashes_kept() {
        assert_eq!(encode_path("a b/c+d/é.laz"), "a%20b/c%2Bd/%C3%A9.laz");
        assert_eq!(encode_path("x-y_z.~/1"), "x-y_z.~/1");
    }

    #[test]
    fn xml_errors_keep_code_and_message_only() {
        let what = "status 403 Forbidden (<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
                    <Message>The request signature we calculated does not match</Message>\
                    <AWSAccessKeyId>AKIDSECRETISH</AWSAccessKeyId>)";
        let (code, message) = xml_error(what);
        assert_eq!(code.as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(message.as_deref(), Some("The request signature we calculated does not match"));
        assert_eq!(status_part(what), "status 403 Forbidden");
    }

    #[test]
    fn debug_hides_secrets() {
        let o = StoreOptions {
            s3_secret_access_key: Some("TOPSECRET".into()),
            azure_key: Some("AZSECRET".into()),
            azure_sas: Some("sig=SASSECRET".into()),
            gs_credentials: Some("/keys/sa.json".into()),
            ..Default::default()
        };
        let text = format!("{o:?}");
        assert!(!text.contains("SECRET"), "{text}");
        // a path to a key file is not a secret, and says which file is used
        assert!(text.contains("/keys/sa.json"), "{text}");
    }
}
