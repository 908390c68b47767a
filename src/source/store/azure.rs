//! Azure Blob Storage: account, endpoint, key or SAS (also from a connection
//! string), SharedKey signing.

use super::{LayeredEnv, Lookup, StoreOptions, block_on, context, encode_path, first_var, status_part, truthy, xml_error};
use crate::error::{Error, Result};
use crate::source::HttpSource;
use crate::source::http::{HttpOptions, RequestSigner};
use std::sync::Arc;
use ureq::http::HeaderMap;

/// The storage service version we speak (SharedKey requests must name one).
const API_VERSION: &str = "2021-08-06";

/// Azurite's documented development account (`UseDevelopmentStorage=true`); public by design.
const DEV_ACCOUNT: &str = "devstoreaccount1";
const DEV_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const DEV_ENDPOINT: &str = "http://127.0.0.1:10000/devstoreaccount1";

/// Settings of one connection string (`Name=value;...`, values may hold `=`).
#[derive(Default)]
struct Connection {
    account: Option<String>,
    key: Option<String>,
    sas: Option<String>,
    endpoint: Option<String>,
    protocol: Option<String>,
}

fn parse_connection_string(text: &str) -> Connection {
    let mut c = Connection::default();
    for part in text.split(';') {
        let Some((name, value)) = part.split_once('=') else { continue };
        let value = Some(value.trim().to_string());
        match name.trim().to_ascii_lowercase().as_str() {
            "accountname" => c.account = value,
            "accountkey" => c.key = value,
            "sharedaccesssignature" => c.sas = value,
            "blobendpoint" => c.endpoint = value,
            "defaultendpointsprotocol" => c.protocol = value,
            "usedevelopmentstorage" if value.as_deref().is_some_and(truthy) => {
                c.account = Some(DEV_ACCOUNT.into());
                c.key = Some(DEV_KEY.into());
                c.endpoint = Some(DEV_ENDPOINT.into());
            }
            _ => {}
        }
    }
    c
}

/// What authenticates the requests.
enum Auth {
    Key(String),
    Sas(String),
    Anonymous,
}

struct Resolved {
    account: Option<String>,
    endpoint: Option<String>,
    protocol: Option<String>,
    auth: Option<Auth>,
}

/// Options first, then the environment, then the connection string (options or env).
fn resolve(o: &StoreOptions, env: &dyn Lookup) -> Resolved {
    let conn = o
        .azure_connection_string
        .clone()
        .or_else(|| env.var("AZURE_STORAGE_CONNECTION_STRING"))
        .map(|t| parse_connection_string(&t))
        .unwrap_or_default();
    let account = o
        .azure_account
        .clone()
        .or_else(|| first_var(env, &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT"]))
        .or(conn.account);
    let env_key = || first_var(env, &["AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_KEY"]);
    let env_sas = || env.var("AZURE_STORAGE_SAS_TOKEN");
    let anonymous = o.azure_anonymous.unwrap_or_else(|| env.var("AZURE_NO_SIGN_REQUEST").is_some_and(|v| truthy(&v)));
    let auth = if anonymous {
        Some(Auth::Anonymous)
    } else if let Some(k) = &o.azure_key {
        Some(Auth::Key(k.clone()))
    } else if let Some(s) = &o.azure_sas {
        Some(Auth::Sas(s.clone()))
    } else if let Some(k) = env_key().or(conn.key.clone()) {
        Some(Auth::Key(k))
    } else {
        env_sas().or(conn.sas.clone()).map(Auth::Sas)
    };
    let endpoint = o.azure_endpoint.clone().or_else(|| env.var("AZURE_STORAGE_BLOB_ENDPOINT")).or(conn.endpoint);
    Resolved { account, endpoint, protocol: conn.protocol, auth }
}

/// Whether a key, a SAS or anonymous access is configured (for https URLs of Azure).
pub(super) fn credentials_configured(o: &StoreOptions, env: &dyn Lookup) -> bool {
    resolve(o, env).auth.is_some()
}

pub(super) fn open(
    location: &str,
    url_account: Option<&str>,
    container: &str,
    blob: &str,
    http: &HttpOptions,
    env: &dyn Lookup,
) -> Result<HttpSource> {
    if container.is_empty() || blob.is_empty() || blob.ends_with('/') {
        return Err(Error::InvalidArgument(format!(
            "{location}: an Azure URL names one blob: az://CONTAINER/BLOB (got container '{container}', blob '{blob}')"
        )));
    }
    let r = resolve(&http.store, env);
    let account = url_account.map(str::to_string).or(r.account);
    let name = format!("az://{container}/{blob}");
    let endpoint = match (url_account, r.endpoint, &account) {
        (Some(a), _, _) => format!("https://{a}.blob.core.windows.net"),
        (None, Some(e), _) => e.trim_end_matches('/').to_string(),
        (None, None, Some(a)) => format!("{}://{a}.blob.core.windows.net", r.protocol.as_deref().unwrap_or("https")),
        (None, None, None) => {
            return Err(Error::InvalidArgument(format!(
                "{name}: no Azure storage account: set AZURE_STORAGE_ACCOUNT_NAME (or AZURE_STORAGE_ACCOUNT, \
                 AZURE_STORAGE_CONNECTION_STRING, the azure_account option) or the blob endpoint \
                 (azure_endpoint, AZURE_STORAGE_BLOB_ENDPOINT)"
            )));
        }
    };
    let signer = match r.auth {
        None => {
            return Err(Error::InvalidArgument(format!(
                "{name}: no Azure credentials found; looked in the reader options (azure_key, azure_sas, \
                 azure_connection_string), AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_ACCESS_KEY, \
                 AZURE_STORAGE_KEY), AZURE_STORAGE_SAS_TOKEN and AZURE_STORAGE_CONNECTION_STRING. Set one of \
                 them, or AZURE_NO_SIGN_REQUEST=YES for a public container"
            )));
        }
        Some(Auth::Anonymous) => None,
        Some(Auth::Key(key)) => {
            let Some(account) = &account else {
                return Err(Error::InvalidArgument(format!(
                    "{name}: an account key needs the account's name: set AZURE_STORAGE_ACCOUNT_NAME or azure_account"
                )));
            };
            let provider = reqsign_azure_storage::StaticCredentialProvider::new_shared_key(account, &key);
            Some(signer(provider))
        }
        Some(Auth::Sas(sas)) => {
            let provider = reqsign_azure_storage::StaticCredentialProvider::new_sas_token(sas.trim_start_matches('?'));
            Some(signer(provider))
        }
    };
    let url = format!("{endpoint}/{container}/{}", encode_path(blob));
    let auth = AzureSigner { container: container.to_string(), blob: blob.to_string(), signer };
    HttpSource::open_signed(&url, name, http.clone(), Some(Arc::new(auth)))
}

fn signer(
    provider: reqsign_azure_storage::StaticCredentialProvider,
) -> reqsign_core::Signer<reqsign_azure_storage::Credential> {
    reqsign_core::Signer::new(context(LayeredEnv::default()), provider, reqsign_azure_storage::RequestSigner::new())
}

struct AzureSigner {
    container: String,
    blob: String,
    /// None: anonymous (unsigned) requests.
    signer: Option<reqsign_core::Signer<reqsign_azure_storage::Credential>>,
}

impl RequestSigner for AzureSigner {
    fn sign(&self, request: &mut ureq::http::request::Parts) -> std::result::Result<(), String> {
        request.headers.insert("x-ms-version", ureq::http::HeaderValue::from_static(API_VERSION));
        let Some(signer) = &self.signer else { return Ok(()) };
        block_on(signer.sign(request, None))
            .map_err(|e| format!("cannot sign the request for az://{}/{}: {e}", self.container, self.blob))
    }

    fn explain(&self, status: u16, headers: &HeaderMap, what: &str) -> String {
        let (body_code, message) = xml_error(what);
        // HEAD answers have no body; the code is in a header then.
        let code = body_code.or_else(|| headers.get("x-ms-error-code")?.to_str().ok().map(str::to_string));
        let status_text = status_part(what);
        let detail = match (&code, &message) {
            (Some(c), Some(m)) => format!("{status_text}, {c}: {}", m.lines().next().unwrap_or("")),
            (Some(c), None) => format!("{status_text}, {c}"),
            _ => status_text.to_string(),
        };
        let (container, blob) = (&self.container, &self.blob);
        match (status, code.as_deref()) {
            (_, Some("BlobNotFound")) | (404, None) => format!("no such blob '{blob}' in container '{container}' ({detail})"),
            (_, Some("ContainerNotFound")) => format!("no such container '{container}' ({detail})"),
            // Azure says AuthenticationFailed for a signature that does not verify;
            // Azurite says AuthorizationFailure.
            (_, Some("AuthenticationFailed" | "AuthorizationFailure")) if self.signer.is_some() => format!(
                "the store refused the signature for az://{container}/{blob} ({detail}): check the account name \
                 and key (AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY), or that the SAS token is \
                 complete, not expired and allows reading (sp=r)"
            ),
            (403, _) if self.signer.is_none() => format!(
                "access denied to blob '{blob}' in container '{container}' without credentials (anonymous): the \
                 container is not public ({detail})"
            ),
            (403, _) => format!(
                "access denied to blob '{blob}' in container '{container}' ({detail}): the key or SAS does not \
                 allow reading it (SAS permissions, resource, expiry)"
            ),
            _ => format!("az://{container}/{blob} ({detail})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, &'static str>);
    impl Lookup for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    #[test]
    fn connection_strings() {
        let c = parse_connection_string(
            "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=a2V5PT0=;BlobEndpoint=http://127.0.0.1:1/acct;",
        );
        assert_eq!(c.account.as_deref(), Some("acct"));
        assert_eq!(c.key.as_deref(), Some("a2V5PT0="));
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:1/acct"));
        let dev = parse_connection_string("UseDevelopmentStorage=true");
        assert_eq!(dev.account.as_deref(), Some(DEV_ACCOUNT));
    }

    #[test]
    fn options_override_the_environment() {
        let env = Vars(HashMap::from([
            ("AZURE_STORAGE_ACCOUNT_NAME", "envacct"),
            ("AZURE_STORAGE_ACCOUNT_KEY", "ZW52a2V5"),
            ("AZURE_STORAGE_CONNECTION_STRING", "AccountName=connacct;SharedAccessSignature=sv=1&sig=x"),
        ]));
        let none = StoreOptions::default();
        let r = resolve(&none, &env);
        assert_eq!(r.account.as_deref(), Some("envacct"));
        assert!(matches!(r.auth, Some(Auth::Key(ref k)) if k == "ZW52a2V5"));
        let sas = StoreOptions { azure_sas: Some("sv=2&sig=y".into()), azure_account: Some("opt".into()), ..none };
        let r = resolve(&sas, &env);
        assert_eq!(r.account.as_deref(), Some("opt"));
        assert!(matches!(r.auth, Some(Auth::Sas(ref s)) if s == "sv=2&sig=y"));
        let r = resolve(&StoreOptions::default(), &Vars(HashMap::new()));
        assert!(r.auth.is_none());
    }
}
