//! gs:// sources against gcp-storage-emulator on 127.0.0.1 (installed by scripts/test;
//! a missing emulator fails with what to install).
//!
//! The emulator checks no tokens, so the credential chain is tested where it can
//! fail: a token server in this test (127.0.0.1) that verifies the service
//! account's RS256 assertion with the account's public key (or the authorized
//! user's refresh token, or the metadata server's `Metadata-Flavor` header) and
//! hands out a token of its own; the fault proxy in front of the emulator records
//! the `Authorization` header of every request, which must be `Bearer <that token>`.

#[path = "support/emulators.rs"]
mod emulators;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http_server.rs"]
mod http_server;

use copc::{HttpOptions, Query, Reader, ReaderOptions, StoreOptions};
use emulators::{middle_box, BUCKET, FILES, copc, count, info, queries, stdout};
use fault_proxy::Proxy;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const SA_EMAIL: &str = "copc-reader@copc-test.iam.gserviceaccount.com";
const SA_TOKEN: &str = "ya29.copc-test-service-account-token";
const USER_TOKEN: &str = "ya29.copc-test-authorized-user-token";
const GCE_TOKEN: &str = "ya29.copc-test-metadata-token";
const REFRESH_TOKEN: &str = "1//copc-test-refresh-token";
const CLIENT_SECRET: &str = "copc-test-client-secret-Qx7";
const READ_ONLY: &str = "https://www.googleapis.com/auth/devstorage.read_only";

fn b64url_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' | b'+' => 62,
        b'_' | b'/' => 63,
        _ => panic!("not base64url: {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &d)| acc | (d as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}

/// The OAuth token endpoint and the GCE metadata server of Google, as far as a
/// reader uses them; each answer is given only to a request that proves the
/// credential.
struct TokenServer {
    port: u16,
    /// Token requests answered with a token.
    granted: Arc<AtomicU64>,
    /// Why requests were refused.
    refused: Arc<Mutex<Vec<String>>>,
}

impl TokenServer {
    fn start(public_key: rsa::RsaPublicKey) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (granted, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(Vec::new())));
        let (g, r) = (granted.clone(), refused.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_string());
                }
                let header = |name: &str| {
                    head.iter().skip(1).find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                };
                let len = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                let mut body = vec![0; len];
                reader.read_exact(&mut body).ok();
                let body = String::from_utf8_lossy(&body).into_owned();
                let request_line = head.first().cloned().unwrap_or_default();
                let answer = grant(&request_line, header("metadata-flavor"), &body, &public_key);
                let (status, text) = match answer {
                    Ok(token) => {
                        g.fetch_add(1, Ordering::Relaxed);
                        ("200 OK", format!("{{\"access_token\":\"{token}\",\"expires_in\":3600,\"token_type\":\"Bearer\"}}"))
                    }
                    Err(why) => {
                        r.lock().unwrap().push(why);
                        ("400 Bad Request", "{\"error\":\"invalid_grant\"}".to_string())
                    }
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        TokenServer { port, granted, refused }
    }

    fn token_uri(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }
}

/// The token for a request that proves its credential, or why not.
fn grant(request_line: &str, flavor: Option<String>, body: &str, key: &rsa::RsaPublicKey) -> Result<&'static str, String> {
    if request_line.starts_with("GET /computeMetadata/v1/instance/service-accounts/default/token") {
        return match flavor.as_deref() {
            Some("Google") => Ok(GCE_TOKEN),
            _ => Err("metadata request without Metadata-Flavor: Google".into()),
        };
    }
    if !request_line.starts_with("POST /token ") {
        return Err(format!("unexpected request {request_line}"));
    }
    // An authorized user's refresh (JSON body, as reqsign-google sends it).
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let field = |n: &str| v.get(n).and_then(|x| x.as_str()).unwrap_or("").to_string();
        return if field("grant_type") == "refresh_token" && field("refresh_token") == REFRESH_TOKEN && field("client_secret") == CLIENT_SECRET {
            Ok(USER_TOKEN)
        } else {
            Err("refresh request with the wrong refresh token or client secret".into())
        };
    }
    // A service account's JWT bearer grant: RS256 over "header.claims", our key.
    if form_value(body, "grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return Err(format!("unexpected grant in {body}"));
    }
    let jwt = form_value(body, "assertion").ok_or("no assertion")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("the assertion is not a JWT".into());
    }
    use rsa::signature::Verifier;
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key.clone());
    let signature = rsa::pkcs1v15::Signature::try_from(&b64url_decode(parts[2])[..]).map_err(|e| e.to_string())?;
    verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).map_err(|_| "the assertion's signature does not verify")?;
    let claims: serde_json::Value = serde_json::from_slice(&b64url_decode(parts[1])).map_err(|e| e.to_string())?;
    if claims["iss"] != SA_EMAIL || claims["scope"] != READ_ONLY {
        return Err(format!("unexpected claims {claims}"));
    }
    Ok(SA_TOKEN)
}

/// A service-account file, a token server that knows its key, and the emulator
/// behind a recording proxy holding `files`.
struct Setup {
    _emulator: emulators::Emulator,
    proxy: Proxy,
    tokens: TokenServer,
    sa: PathBuf,
    secret_line: String,
    home: tempfile::TempDir,
}

fn setup(data: &Path, files: &[&str]) -> Setup {
    let emulator = emulators::gcs(data, files);
    let proxy = Proxy::start(emulator.port);
    let home = tempfile::tempdir().unwrap();
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let tokens = TokenServer::start(rsa::RsaPublicKey::from(&key));
    let (sa, secret_line) = write_service_account(home.path(), &key, &tokens.token_uri());
    Setup { _emulator: emulator, proxy, tokens, sa, secret_line, home }
}

/// A service-account key file for `key` whose token_uri is `token_uri`, and a line
/// of the key's body (to look for in messages).
fn write_service_account(dir: &Path, key: &rsa::RsaPrivateKey, token_uri: &str) -> (PathBuf, String) {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let file = serde_json::json!({
        "type": "service_account",
        "project_id": "copc-test",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    });
    let path = dir.join("service-account.json");
    std::fs::write(&path, file.to_string()).unwrap();
    (path, pem.lines().nth(5).unwrap().to_string())
}

fn signed_options(s: &Setup) -> ReaderOptions {
    ReaderOptions {
        http: HttpOptions {
            store: StoreOptions {
                gs_credentials: Some(s.sa.to_str().unwrap().into()),
                gs_endpoint: Some(s.proxy.endpoint()),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

#[test]
fn emulator_honours_range_on_media_downloads() {
    let Some(data) = emulators::test_data() else { return };
    let f = FILES[2];
    let emulator = emulators::gcs(&data, &[f]);
    let whole = std::fs::read(data.join(f)).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut answer = agent.get(&format!("{}/{BUCKET}/{f}", emulator.endpoint())).header("Range", "bytes=1000-1999").call().unwrap();
    assert_eq!(answer.status().as_u16(), 206);
    let range = answer.headers().get("content-range").unwrap().to_str().unwrap().to_string();
    assert_eq!(range, format!("bytes 1000-1999/{}", whole.len()));
    assert_eq!(answer.body_mut().read_to_vec().unwrap(), &whole[1000..2000]);
}

#[test]
fn info_and_counts_over_gs_equal_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let s = setup(&data, &FILES);
    let sa = s.sa.to_str().unwrap();
    let endpoint = s.proxy.endpoint();
    let env = [("GOOGLE_APPLICATION_CREDENTIALS", sa), ("CPL_GS_ENDPOINT", endpoint.as_str())];
    for f in FILES {
        let local = data.join(f);
        let url = format!("gs://{BUCKET}/{f}");
        assert_eq!(info(&url, &env, s.home.path()), info(local.to_str().unwrap(), &[], s.home.path()), "{f}");
        for q in queries(&local) {
            assert_eq!(count(&url, &q, &env, s.home.path()), count(local.to_str().unwrap(), &q, &[], s.home.path()), "{f} {q:?}");
        }
    }
    let seen = s.proxy.authorizations();
    assert!(!seen.is_empty() && seen.iter().all(|a| a == &format!("Bearer {SA_TOKEN}")), "{seen:?}");
    assert!(s.tokens.refused.lock().unwrap().is_empty(), "{:?}", s.tokens.refused.lock().unwrap());
}

#[test]
fn requests_over_gs_follow_the_http_plan_with_one_token_exchange() {
    let Some(data) = emulators::test_data() else { return };
    let s = setup(&data, &FILES);
    for f in FILES {
        let local = data.join(f);
        let web = http_server::serve_file(&local);
        let opts = signed_options(&s);
        s.proxy.reset();
        let before = s.tokens.granted.load(Ordering::Relaxed);
        let over_gs = Reader::open_with(format!("gs://{BUCKET}/{f}"), &opts).unwrap();
        let over_http = Reader::open_with(web.url(), &opts).unwrap();
        let q = Query::new().bounds(middle_box(&over_http));
        let n = over_gs.count(&q).unwrap();
        assert_eq!(n, over_http.count(&q).unwrap(), "{f}");
        assert_eq!(n, Reader::open(local.to_str().unwrap()).unwrap().count(&q).unwrap(), "{f}");
        let (g, h) = (over_gs.source_stats(), over_http.source_stats());
        assert_eq!((g.requests, g.bytes), (h.requests, h.bytes), "{f}: GCS {g:?} vs HTTP {h:?}");
        assert_eq!(s.proxy.requests(), g.requests, "{f}: requests the proxy saw vs our counter");
        assert_eq!(web.requests(), h.requests, "{f}");
        let seen = s.proxy.authorizations();
        assert!(seen.iter().all(|a| a == &format!("Bearer {SA_TOKEN}")), "{f}: {seen:?}");
        assert_eq!(s.tokens.granted.load(Ordering::Relaxed) - before, 1, "{f}: one token for all {} requests", g.requests);
    }
}

#[test]
fn authorized_user_and_metadata_server_tokens() {
    let Some(data) = emulators::test_data() else { return };
    let s = setup(&data, &FILES[..1]);
    let url = format!("gs://{BUCKET}/{}", FILES[0]);
    let want = Reader::open(data.join(FILES[0]).to_str().unwrap()).unwrap().header().point_count;
    let endpoint = s.proxy.endpoint();
    // gcloud's application default credentials (an authorized user) under CLOUDSDK_CONFIG.
    let gcloud = s.home.path().join("gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    let user = serde_json::json!({
        "type": "authorized_user", "client_id": "copc-test.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN, "token_uri": s.tokens.token_uri(),
    });
    std::fs::write(gcloud.join("application_default_credentials.json"), user.to_string()).unwrap();
    s.proxy.reset();
    let env = [("CLOUDSDK_CONFIG", gcloud.to_str().unwrap()), ("CPL_GS_ENDPOINT", endpoint.as_str())];
    assert_eq!(count(&url, &[], &env, s.home.path()), want);
    let seen = s.proxy.authorizations();
    assert!(!seen.is_empty() && seen.iter().all(|a| a == &format!("Bearer {USER_TOKEN}")), "{seen:?}");
    // The GCE metadata server, when no file is found.
    s.proxy.reset();
    let metadata = format!("127.0.0.1:{}", s.tokens.port);
    let env = [("GCE_METADATA_HOST", metadata.as_str()), ("NO_GCE_CHECK", "false"), ("CPL_GS_ENDPOINT", endpoint.as_str())];
    assert_eq!(count(&url, &[], &env, s.home.path()), want);
    let seen = s.proxy.authorizations();
    assert!(!seen.is_empty() && seen.iter().all(|a| a == &format!("Bearer {GCE_TOKEN}")), "{seen:?}");
    assert!(s.tokens.refused.lock().unwrap().is_empty(), "{:?}", s.tokens.refused.lock().unwrap());
    // A refresh token the server does not know: refused, and no secret in the message.
    let wrong = serde_json::json!({
        "type": "authorized_user", "client_id": "x", "client_secret": "wrong-client-secret-Lm4",
        "refresh_token": "1//wrong-refresh-token", "token_uri": s.tokens.token_uri(),
    });
    let wrong_file = s.home.path().join("wrong-user.json");
    std::fs::write(&wrong_file, wrong.to_string()).unwrap();
    let out = copc(&["info", &url, "--gs-credentials", wrong_file.to_str().unwrap(), "--gs-endpoint", &endpoint], &[], s.home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&url) && err.contains("wrong-user.json"), "{err}");
    assert!(!err.contains("wrong-client-secret-Lm4") && !err.contains("1//wrong-refresh-token"), "{err}");
}

#[test]
fn missing_objects_and_credentials_say_what_to_fix() {
    let Some(data) = emulators::test_data() else { return };
    let s = setup(&data, &FILES[..1]);
    let endpoint = s.proxy.endpoint();
    let sa = s.sa.to_str().unwrap();
    let fail = |url: &str, env: &[(&str, &str)]| {
        let out = copc(&["info", url], env, s.home.path());
        assert!(!out.status.success(), "{url} opened");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let missing = format!("gs://{BUCKET}/nothing-here.copc.laz");
    let err = fail(&missing, &[("GOOGLE_APPLICATION_CREDENTIALS", sa), ("CPL_GS_ENDPOINT", &endpoint)]);
    assert!(err.contains(&missing) && err.contains("no such object 'nothing-here.copc.laz' in bucket 'copc-test'"), "{err}");
    // A credentials file that is not there: where we looked, nothing secret.
    let err = fail(&format!("gs://{BUCKET}/{}", FILES[0]), &[("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/sa.json"), ("CPL_GS_ENDPOINT", &endpoint)]);
    assert!(err.contains("/nonexistent/sa.json") && err.contains("GOOGLE_APPLICATION_CREDENTIALS") && err.contains("application_default_credentials.json") && err.contains("metadata server") && err.contains("GS_NO_SIGN_REQUEST"), "{err}");
    // Nothing anywhere (metadata off): the same list.
    let err = fail(&format!("gs://{BUCKET}/{}", FILES[0]), &[("CPL_GS_ENDPOINT", &endpoint)]);
    assert!(err.contains("no Google Cloud credentials found") && err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");
    // A service account whose token server says no: named, the key not shown.
    let refusing = s.home.path().join("refusing");
    std::fs::create_dir_all(&refusing).unwrap();
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let (bad_sa, bad_line) = write_service_account(&refusing, &other, &s.tokens.token_uri());
    let err = fail(&format!("gs://{BUCKET}/{}", FILES[0]), &[("GOOGLE_APPLICATION_CREDENTIALS", bad_sa.to_str().unwrap()), ("CPL_GS_ENDPOINT", &endpoint)]);
    assert!(err.contains("cannot get a Google access token") && err.contains("service_account"), "{err}");
    assert!(!err.contains(&bad_line) && !err.contains("PRIVATE KEY"), "{err}");
    assert!(!s.tokens.refused.lock().unwrap().is_empty(), "the token server refused the other key");
    // An endpoint where nothing listens: reported at once.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = std::time::Instant::now();
    let err = fail(&format!("gs://{BUCKET}/{}", FILES[0]), &[("STORAGE_EMULATOR_HOST", &format!("127.0.0.1:{closed}"))]);
    assert!(err.contains("refused") || err.contains("connection failed"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(3), "{:?}: {err}", t.elapsed());
}

#[test]
fn anonymous_access_and_no_secret_in_output() {
    let Some(data) = emulators::test_data() else { return };
    let s = setup(&data, &FILES);
    let endpoint = s.proxy.endpoint();
    for f in [FILES[0], FILES[2]] {
        let local = data.join(f);
        // STORAGE_EMULATOR_HOST alone: unsigned, as Google's client libraries do.
        for q in queries(&local) {
            assert_eq!(count(&format!("gs://{BUCKET}/{f}"), &q, &[("STORAGE_EMULATOR_HOST", &endpoint)], s.home.path()), count(local.to_str().unwrap(), &q, &[], s.home.path()), "{f} {q:?}");
        }
    }
    // GS_NO_SIGN_REQUEST=YES beside a credentials file, and the command-line flags.
    let url = format!("gs://{BUCKET}/{}", FILES[0]);
    let want = Reader::open(data.join(FILES[0]).to_str().unwrap()).unwrap().header().point_count;
    let sa = s.sa.to_str().unwrap();
    assert_eq!(count(&url, &[], &[("GS_NO_SIGN_REQUEST", "YES"), ("GOOGLE_APPLICATION_CREDENTIALS", sa), ("CPL_GS_ENDPOINT", &endpoint)], s.home.path()), want);
    let n = stdout(&copc(&["query", &url, "--count", "--no-sign-request", "--gs-endpoint", &endpoint], &[], s.home.path()));
    assert_eq!(n.trim().parse::<u64>().unwrap(), want);
    let seen = s.proxy.authorizations();
    assert!(!seen.is_empty() && seen.iter().all(String::is_empty), "anonymous requests carried {seen:?}");
    // Signed: the token and the key appear in no output.
    let env = [("GOOGLE_APPLICATION_CREDENTIALS", sa), ("CPL_GS_ENDPOINT", endpoint.as_str())];
    for args in [
        vec!["query", url.as_str(), "--count", "--stats"],
        vec!["info", "--json", url.as_str()],
        vec!["validate", url.as_str()],
        vec!["query", "gs://copc-test/missing.laz", "--count", "--stats"],
    ] {
        let out = copc(&args, &env, s.home.path());
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(SA_TOKEN) && !all.contains(&s.secret_line), "{args:?}: {all}");
    }
}
