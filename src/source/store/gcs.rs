//! Google Cloud Storage: `gs://BUCKET/OBJECT` over the XML API
//! (`https://storage.googleapis.com/BUCKET/OBJECT` with `Range`), OAuth 2 bearer
//! tokens from Application Default Credentials.
//!
//! Why the XML API and not the JSON API (`/storage/v1/b/B/o/O?alt=media`): both
//! honour `Range` at Google, but the XML form is the one GDAL's `CPL_GS_ENDPOINT`
//! names (so that variable means the same here), keeps `/` in object names (the
//! S3 encoding), and its errors are the `<Code>` XML we already read for S3
//! (`NoSuchKey`, `NoSuchBucket`, `AccessDenied`). gcp-storage-emulator and
//! fake-gcs-server serve the same path, with `Range`.
//!
//! Credentials as Google's libraries find them (ADC): the `gs_credentials` option,
//! `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's `application_default_credentials.json`
//! (`CLOUDSDK_CONFIG`, else `~/.config/gcloud`), then the GCE metadata server (not
//! with `NO_GCE_CHECK=true`; `GCE_METADATA_HOST`). The files are parsed and the
//! tokens obtained by `reqsign-google`; we only pick the file. We do not use its
//! `DefaultCredentialProvider` as it is: a service-account file comes out of it as
//! a key, not a token, and its signer then exchanges the key for a token on every
//! request. `ServiceAccountTokenCredentialProvider` gives a token with its expiry,
//! which the signer keeps until it runs out: one token request per source.
//!
//! `reqsign-google` 3.2 sends every token exchange to `https://oauth2.googleapis.com/token`
//! and ignores a file's `token_uri`; Google's own libraries use `token_uri`, so the
//! token request goes there when the file names another one (private Google
//! endpoints, test servers).

use super::{LayeredEnv, Lookup, StdFileRead, UreqHttpSend, block_on, encode_path, status_part, truthy, xml_error};
use crate::error::{Error, Result};
use crate::source::HttpSource;
use crate::source::http::{HttpOptions, RequestSigner};
use std::sync::Arc;
use ureq::http::HeaderMap;

const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// The token endpoint reqsign-google sends every exchange to.
const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// A reader needs no more than reading objects.
const READ_ONLY_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";

/// Largest credentials file read (they are a few KiB).
const CREDENTIALS_FILE_LIMIT: u64 = 1 << 20;

/// Where the credentials were looked for, for the messages.
const LOOKED: &str = "the gs_credentials option (--gs-credentials), GOOGLE_APPLICATION_CREDENTIALS, gcloud's \
                      application default credentials (CLOUDSDK_CONFIG or ~/.config/gcloud, \
                      application_default_credentials.json: `gcloud auth application-default login`) and the \
                      GCE metadata server (GCE_METADATA_HOST, default metadata.google.internal; skipped with \
                      NO_GCE_CHECK=true)";

/// Where a token comes from.
#[derive(Debug, PartialEq, Eq)]
enum Creds {
    /// A credentials file: where it was named, its `type`, its `token_uri`.
    File { path: String, origin: String, kind: String, token_uri: Option<String> },
    /// The GCE metadata server.
    Metadata,
    /// Unsigned requests.
    Anonymous,
}

/// `http://HOST:PORT` for an endpoint given with or without a scheme (the Google
/// libraries accept `STORAGE_EMULATOR_HOST=localhost:9023`), without a trailing `/`.
fn normalize_endpoint(e: &str) -> String {
    let e = e.trim().trim_end_matches('/');
    if e.contains("://") { e.to_string() } else { format!("http://{e}") }
}

/// The endpoint, and whether it came from STORAGE_EMULATOR_HOST (which, as in
/// Google's client libraries, means unsigned requests unless asked otherwise).
fn endpoint(o: &crate::source::StoreOptions, env: &dyn Lookup) -> (String, bool) {
    if let Some(e) = &o.gs_endpoint {
        return (normalize_endpoint(e), false);
    }
    if let Some(e) = env.var("STORAGE_EMULATOR_HOST") {
        return (normalize_endpoint(&e), true);
    }
    match env.var("CPL_GS_ENDPOINT") {
        Some(e) => (normalize_endpoint(&e), false),
        None => (DEFAULT_ENDPOINT.to_string(), false),
    }
}

/// YES/NO (any of GDAL's spellings) or None when unset or unclear.
fn yes_no(v: Option<String>) -> Option<bool> {
    let v = v?;
    if truthy(&v) {
        return Some(true);
    }
    matches!(v.trim().to_ascii_lowercase().as_str(), "no" | "false" | "off" | "0").then_some(false)
}

/// gcloud's application default credentials file, as the Google libraries find it.
fn well_known_file(env: &dyn Lookup) -> Option<String> {
    if let Some(dir) = env.var("CLOUDSDK_CONFIG") {
        return Some(format!("{}/application_default_credentials.json", dir.trim_end_matches('/')));
    }
    if let Some(dir) = env.var("APPDATA") {
        return Some(format!("{dir}\\gcloud\\application_default_credentials.json"));
    }
    env.var("HOME").map(|h| format!("{}/.config/gcloud/application_default_credentials.json", h.trim_end_matches('/')))
}

/// Reads a credentials file's `type` and `token_uri` (nothing of it is ever shown).
fn inspect_file(path: &str, origin: &str) -> std::result::Result<Creds, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, CREDENTIALS_FILE_LIMIT), &mut text)
        .map_err(|e| format!("cannot read it: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|_| "it is not JSON (expected a service-account or authorized-user key file)".to_string())?;
    let field = |name: &str| v.get(name).and_then(|x| x.as_str()).filter(|s| !s.is_empty()).map(str::to_string);
    let kind = field("type").ok_or("it has no \"type\" (expected \"service_account\" or \"authorized_user\")")?;
    let needs: &[&str] = match kind.as_str() {
        "service_account" => &["client_email", "private_key"],
        "authorized_user" => &["client_id", "client_secret", "refresh_token"],
        "external_account" | "impersonated_service_account" => &[],
        other => {
            return Err(format!(
                "its type \"{other}\" is not one we can use (service_account, authorized_user, \
                 external_account, impersonated_service_account)"
            ));
        }
    };
    if let Some(missing) = needs.iter().find(|n| field(n).is_none()) {
        return Err(format!("this {kind} file has no \"{missing}\""));
    }
    Ok(Creds::File { path: path.to_string(), origin: origin.to_string(), kind, token_uri: field("token_uri") })
}

/// Options first, then the environment, then gcloud's file, then the metadata server.
fn resolve(name: &str, http: &HttpOptions, env: &dyn Lookup, emulator: bool) -> Result<Creds> {
    let o = &http.store;
    let anonymous = o.gs_anonymous.or_else(|| yes_no(env.var("GS_NO_SIGN_REQUEST"))).unwrap_or(emulator);
    if anonymous {
        return Ok(Creds::Anonymous);
    }
    let named = match &o.gs_credentials {
        Some(p) => Some((p.clone(), "the gs_credentials option".to_string())),
        None => env.var("GOOGLE_APPLICATION_CREDENTIALS").map(|p| (p, "GOOGLE_APPLICATION_CREDENTIALS".to_string())),
    };
    if let Some((path, origin)) = named {
        return inspect_file(&path, &origin).map_err(|why| {
            Error::InvalidArgument(format!(
                "{name}: the Google credentials file {path} (from {origin}) is not usable: {why}. We look in \
                 {LOOKED}; set one of them, or GS_NO_SIGN_REQUEST=YES for a public bucket"
            ))
        });
    }
    if let Some(path) = well_known_file(env) {
        if std::path::Path::new(&path).is_file() {
            return inspect_file(&path, "gcloud's application default credentials").map_err(|why| {
                Error::InvalidArgument(format!(
                    "{name}: gcloud's application default credentials {path} are not usable: {why}; run \
                     `gcloud auth application-default login` again, or set GOOGLE_APPLICATION_CREDENTIALS"
                ))
            });
        }
    }
    if env.var("NO_GCE_CHECK").is_some_and(|v| truthy(&v)) {
        return Err(Error::InvalidArgument(format!(
            "{name}: no Google Cloud credentials found; looked in {LOOKED}. Set one of them, or \
             GS_NO_SIGN_REQUEST=YES for a public bucket"
        )));
    }
    Ok(Creds::Metadata)
}

pub(super) fn open(location: &str, bucket: &str, object: &str, http: &HttpOptions, env: &dyn Lookup) -> Result<HttpSource> {
    if bucket.is_empty() || object.is_empty() || object.ends_with('/') {
        return Err(Error::InvalidArgument(format!(
            "{location}: a Google Cloud Storage URL names one object: gs://BUCKET/OBJECT (got bucket '{bucket}', \
             object '{object}')"
        )));
    }
    let name = format!("gs://{bucket}/{object}");
    let (endpoint, emulator) = endpoint(&http.store, env);
    if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
        return Err(Error::InvalidArgument(format!(
            "{name}: Google Cloud Storage endpoint '{endpoint}': expected http://HOST[:PORT] or https://..."
        )));
    }
    let creds = resolve(&name, http, env, emulator)?;
    let signer = match &creds {
        Creds::Anonymous => None,
        creds => Some(credential_signer(creds)),
    };
    let url = format!("{endpoint}/{bucket}/{}", encode_path(object));
    let auth = GcsSigner { bucket: bucket.to_string(), object: object.to_string(), creds, signer };
    HttpSource::open_signed(&url, name, http.clone(), Some(Arc::new(auth)))
}

/// The token source for `creds` (not Anonymous) and bearer signing.
fn credential_signer(creds: &Creds) -> reqsign_core::Signer<reqsign_google::Credential> {
    let token_uri = match creds {
        Creds::File { token_uri, .. } => token_uri.clone().filter(|u| u != GOOGLE_TOKEN_URI),
        _ => None,
    };
    let ctx = reqsign_core::Context::new()
        .with_file_read(StdFileRead)
        .with_http_send(TokenUriSend { inner: UreqHttpSend::new(), token_uri })
        .with_env(LayeredEnv::default());
    let signer = reqsign_google::RequestSigner::new("storage").with_scope(READ_ONLY_SCOPE);
    match creds {
        Creds::File { path, kind, .. } if kind == "service_account" => {
            let file = reqsign_google::FileCredentialProvider::new(path.clone()).with_scope(READ_ONLY_SCOPE);
            let provider =
                reqsign_google::ServiceAccountTokenCredentialProvider::from_provider(file).with_scope(READ_ONLY_SCOPE);
            reqsign_core::Signer::new(ctx, provider, signer)
        }
        Creds::File { path, .. } => {
            let provider = reqsign_google::FileCredentialProvider::new(path.clone()).with_scope(READ_ONLY_SCOPE);
            reqsign_core::Signer::new(ctx, provider, signer)
        }
        _ => {
            let provider = reqsign_google::VmMetadataCredentialProvider::new().with_scope(READ_ONLY_SCOPE);
            reqsign_core::Signer::new(ctx, provider, signer)
        }
    }
}

/// The credential chains' HTTP, with token exchanges sent to the file's `token_uri`.
#[derive(Debug)]
struct TokenUriSend {
    inner: UreqHttpSend,
    token_uri: Option<String>,
}

impl reqsign_core::HttpSend for TokenUriSend {
    async fn http_send(
        &self,
        mut req: ureq::http::Request<bytes::Bytes>,
    ) -> reqsign_core::Result<ureq::http::Response<bytes::Bytes>> {
        if let Some(uri) = &self.token_uri {
            if req.uri() == GOOGLE_TOKEN_URI {
                *req.uri_mut() = uri
                    .parse()
                    .map_err(|_| reqsign_core::Error::config_invalid("the credentials file's token_uri is not a URL"))?;
            }
        }
        reqsign_core::HttpSend::http_send(&self.inner, req).await
    }
}

/// reqsign's message and its context ("oauth_status: 400", "oauth_error: invalid_grant").
fn reqsign_detail(e: &reqsign_core::Error) -> String {
    match e.context() {
        [] => e.to_string(),
        context => format!("{e} ({})", context.join(", ")),
    }
}

struct GcsSigner {
    bucket: String,
    object: String,
    creds: Creds,
    /// None: anonymous (unsigned) requests.
    signer: Option<reqsign_core::Signer<reqsign_google::Credential>>,
}

impl GcsSigner {
    fn url(&self) -> String {
        format!("gs://{}/{}", self.bucket, self.object)
    }
}

impl RequestSigner for GcsSigner {
    fn sign(&self, request: &mut ureq::http::request::Parts) -> std::result::Result<(), String> {
        let Some(signer) = &self.signer else { return Ok(()) };
        // reqsign's messages name the provider and what failed, never the key or token.
        block_on(signer.sign(request, None)).map_err(|e| {
            let e = reqsign_detail(&e);
            match &self.creds {
                Creds::File { path, origin, kind, .. } => format!(
                    "cannot get a Google access token for {} with the {kind} credentials in {path} (from \
                     {origin}): {e}",
                    self.url()
                ),
                _ => format!(
                    "no Google Cloud credentials found for {}; looked in {LOOKED}, and the metadata server gave \
                     no token ({e}). Set GOOGLE_APPLICATION_CREDENTIALS to a key file, or GS_NO_SIGN_REQUEST=YES \
                     for a public bucket",
                    self.url()
                ),
            }
        })
    }

    fn explain(&self, status: u16, _headers: &HeaderMap, what: &str) -> String {
        let (code, message) = xml_error(what);
        let status_text = status_part(what);
        let detail = match (&code, &message) {
            (Some(c), Some(m)) => format!("{status_text}, {c}: {m}"),
            (Some(c), None) => format!("{status_text}, {c}"),
            _ => status_text.to_string(),
        };
        let (bucket, object) = (&self.bucket, &self.object);
        match (status, code.as_deref()) {
            (_, Some("NoSuchBucket")) => format!("no such bucket '{bucket}' ({detail})"),
            (_, Some("NoSuchKey")) => format!("no such object '{object}' in bucket '{bucket}' ({detail})"),
            (404, _) => format!("no such object '{object}' in bucket '{bucket}', or no such bucket ({detail})"),
            (401, _) if self.signer.is_some() => format!(
                "the store refused the access token for {} ({detail}): the credentials are not valid for \
                 Google Cloud Storage (revoked key, wrong project?)",
                self.url()
            ),
            (401 | 403, _) if self.signer.is_none() => format!(
                "access denied to object '{object}' in bucket '{bucket}' without credentials (anonymous): the \
                 bucket is not public; unset GS_NO_SIGN_REQUEST and give credentials ({detail})"
            ),
            (403, _) => format!(
                "access denied to object '{object}' in bucket '{bucket}' ({detail}): the credentials are valid \
                 but may not read this object (it needs storage.objects.get, e.g. roles/storage.objectViewer)"
            ),
            _ => format!("{} ({detail})", self.url()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::StoreOptions;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, String>);
    impl Lookup for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    #[test]
    fn endpoints_from_options_and_environment() {
        let none = StoreOptions::default();
        let env = |pairs: &[(&'static str, &str)]| Vars(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect());
        assert_eq!(endpoint(&none, &env(&[])), (DEFAULT_ENDPOINT.to_string(), false));
        assert_eq!(endpoint(&none, &env(&[("STORAGE_EMULATOR_HOST", "localhost:9023")])), ("http://localhost:9023".into(), true));
        assert_eq!(
            endpoint(&none, &env(&[("CPL_GS_ENDPOINT", "https://storage.googleapis.com/")])),
            ("https://storage.googleapis.com".into(), false)
        );
        let opt = StoreOptions { gs_endpoint: Some("http://127.0.0.1:1/".into()), ..Default::default() };
        assert_eq!(endpoint(&opt, &env(&[("STORAGE_EMULATOR_HOST", "x:1")])), ("http://127.0.0.1:1".into(), false));
    }

    #[test]
    fn credentials_are_looked_for_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let sa = dir.path().join("sa.json");
        std::fs::write(&sa, r#"{"type":"service_account","client_email":"a@b","private_key":"PRIVATEKEY","token_uri":"http://127.0.0.1:9/t"}"#).unwrap();
        let gcloud = dir.path().join("gcloud");
        std::fs::create_dir_all(&gcloud).unwrap();
        std::fs::write(gcloud.join("application_default_credentials.json"), r#"{"type":"authorized_user","client_id":"i","client_secret":"SECRETVALUE","refresh_token":"r"}"#).unwrap();
        let http = HttpOptions::default();
        let vars = |pairs: &[(&'static str, String)]| Vars(pairs.iter().cloned().collect());
        let sa_path = sa.to_str().unwrap().to_string();
        let r = resolve("gs://b/o", &http, &vars(&[("GOOGLE_APPLICATION_CREDENTIALS", sa_path.clone())]), false).unwrap();
        assert!(matches!(&r, Creds::File { kind, token_uri: Some(t), .. } if kind == "service_account" && t == "http://127.0.0.1:9/t"), "{r:?}");
        let well_known = vars(&[("CLOUDSDK_CONFIG", gcloud.to_str().unwrap().to_string())]);
        let r = resolve("gs://b/o", &http, &well_known, false).unwrap();
        assert!(matches!(&r, Creds::File { kind, .. } if kind == "authorized_user"), "{r:?}");
        assert_eq!(resolve("gs://b/o", &http, &vars(&[("HOME", "/nonexistent".into())]), false).unwrap(), Creds::Metadata);
        // The emulator host means anonymous unless GS_NO_SIGN_REQUEST=NO; the option wins.
        assert_eq!(resolve("gs://b/o", &http, &well_known, true).unwrap(), Creds::Anonymous);
        let signed = vars(&[("GS_NO_SIGN_REQUEST", "NO".into()), ("GOOGLE_APPLICATION_CREDENTIALS", sa_path.clone())]);
        assert!(matches!(resolve("gs://b/o", &http, &signed, true).unwrap(), Creds::File { .. }));
        let anon = HttpOptions { store: StoreOptions { gs_anonymous: Some(true), ..Default::default() }, ..Default::default() };
        assert_eq!(resolve("gs://b/o", &anon, &signed, false).unwrap(), Creds::Anonymous);
        // A missing or broken file: where we looked, never the contents.
        let e = resolve("gs://b/o", &http, &vars(&[("GOOGLE_APPLICATION_CREDENTIALS", "/no/such.json".into())]), false).unwrap_err().to_string();
        assert!(e.contains("/no/such.json") && e.contains("GOOGLE_APPLICATION_CREDENTIALS") && e.contains("metadata server"), "{e}");
        std::fs::write(&sa, r#"{"type":"service_account","private_key":"PRIVATEKEY"}"#).unwrap();
        let e = resolve("gs://b/o", &http, &vars(&[("GOOGLE_APPLICATION_CREDENTIALS", sa_path)]), false).unwrap_err().to_string();
        assert!(e.contains("no \"client_email\"") && !e.contains("PRIVATEKEY"), "{e}");
        let e = resolve("gs://b/o", &http, &vars(&[("NO_GCE_CHECK", "true".into())]), false).unwrap_err().to_string();
        assert!(e.contains("no Google Cloud credentials found") && e.contains("GS_NO_SIGN_REQUEST"), "{e}");
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let s = GcsSigner { bucket: "bkt".into(), object: "d/o.laz".into(), creds: Creds::Metadata, signer: None };
        let h = HeaderMap::new();
        let e = s.explain(404, &h, "status 404 Not Found (<Error><Code>NoSuchKey</Code><Message>No such object: bkt/d/o.laz</Message></Error>)");
        assert!(e.contains("no such object 'd/o.laz' in bucket 'bkt'"), "{e}");
        assert!(s.explain(404, &h, "status 404 Not Found (<Code>NoSuchBucket</Code>)").contains("no such bucket 'bkt'"));
        assert!(s.explain(404, &h, "status 404 Not Found").contains("no such object 'd/o.laz' in bucket 'bkt'"));
        assert!(s.explain(403, &h, "status 403 Forbidden (<Code>AccessDenied</Code>)").contains("not public"));
    }
}
