//! az:// sources against Azurite (Azure Blob emulator) on 127.0.0.1, with the
//! account key (SharedKey) and with a SAS token; installed by scripts/test, and a
//! missing emulator fails with what to install.

#[path = "support/emulators.rs"]
mod emulators;
#[path = "support/http_server.rs"]
mod http_server;

use copc::{Bounds, HttpOptions, Query, Reader, ReaderOptions, StoreOptions};
use emulators::{AZ_ACCOUNT, AZ_KEY, CONTAINER, EPT_DATASET, FILES, TRANSLATE_INPUTS, queries};
use std::path::Path;
use std::process::Output;

/// Runs a future whose I/O is blocking (test setup only).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut f = std::pin::pin!(f);
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// One SharedKey-signed request to Azurite (setup: container, uploads).
fn put(url: &str, headers: &[(&str, String)], body: Vec<u8>) {
    let signer = reqsign_core::Signer::new(
        reqsign_core::Context::new(),
        reqsign_azure_storage::StaticCredentialProvider::new_shared_key(AZ_ACCOUNT, AZ_KEY),
        reqsign_azure_storage::RequestSigner::new(),
    );
    let mut req = ureq::http::Request::builder().method("PUT").uri(url).header("x-ms-version", "2021-08-06");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    req = req.header("content-length", body.len().to_string());
    let (mut parts, ()) = req.body(()).unwrap().into_parts();
    block_on(signer.sign(&mut parts, None)).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let answer = agent.run(ureq::http::Request::from_parts(parts, body)).unwrap();
    assert!(answer.status().is_success(), "PUT {url}: {}", answer.status());
}

/// Azurite with CONTAINER holding `files`.
fn azurite_with(data: &Path, files: &[&str]) -> (emulators::Emulator, String) {
    let az = emulators::azurite();
    let endpoint = format!("{}/{AZ_ACCOUNT}", az.endpoint());
    put(&format!("{endpoint}/{CONTAINER}?restype=container"), &[], Vec::new());
    for f in files {
        let bytes = std::fs::read(data.join(f)).unwrap();
        put(&format!("{endpoint}/{CONTAINER}/{f}"), &[("x-ms-blob-type", "BlockBlob".into())], bytes);
    }
    (az, endpoint)
}

/// A read-only SAS for the container, made with the account key.
fn container_sas() -> String {
    let expiry = reqsign_core::time::Timestamp::from_second(jiff::Timestamp::now().as_second() + 7200).unwrap();
    let sas = reqsign_azure_storage::ServiceSharedAccessSignature::new(
        AZ_ACCOUNT.into(),
        AZ_KEY.into(),
        reqsign_azure_storage::ServiceSasResource::Container { container: CONTAINER.into() },
        "r".into(),
        expiry,
    );
    // Encoded as Azure's portal hands it out (the signature is base64: '+', '/', '=').
    let encode = |v: &str| percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string();
    sas.token().unwrap().into_iter().map(|(k, v)| format!("{k}={}", encode(&v))).collect::<Vec<_>>().join("&")
}

/// The shared CLI helpers, each run with HOME in a fresh empty folder.
fn copc(args: &[&str], env: &[(&str, &str)]) -> Output {
    emulators::copc(args, env, tempfile::tempdir().unwrap().path())
}

fn info(target: &str, env: &[(&str, &str)]) -> serde_json::Value {
    emulators::info(target, env, tempfile::tempdir().unwrap().path())
}

fn count(target: &str, extra: &[String], env: &[(&str, &str)]) -> u64 {
    emulators::count(target, extra, env, tempfile::tempdir().unwrap().path())
}

fn same_as_local(data: &Path, files: &[&str], env: &[(&str, &str)], with_info: bool) {
    for f in files {
        let local = data.join(f);
        let url = format!("az://{CONTAINER}/{f}");
        if with_info {
            assert_eq!(info(&url, env), info(local.to_str().unwrap(), &[]), "{f}");
        }
        for q in queries(&local) {
            assert_eq!(count(&url, &q, env), count(local.to_str().unwrap(), &q, &[]), "{f} {q:?}");
        }
    }
}

#[test]
fn account_key_info_and_counts_equal_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let (_az, endpoint) = azurite_with(&data, &FILES);
    let env = [
        ("AZURE_STORAGE_ACCOUNT_NAME", AZ_ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", AZ_KEY),
        ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint.as_str()),
    ];
    same_as_local(&data, &FILES, &env, true);
    // The same through a connection string alone.
    let conn = format!("DefaultEndpointsProtocol=http;AccountName={AZ_ACCOUNT};AccountKey={AZ_KEY};BlobEndpoint={endpoint};");
    same_as_local(&data, &FILES[..2], &[("AZURE_STORAGE_CONNECTION_STRING", conn.as_str())], false);
}

#[test]
fn sas_token_info_and_counts_equal_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let (_az, endpoint) = azurite_with(&data, &FILES);
    let sas = container_sas();
    let env = [("AZURE_STORAGE_SAS_TOKEN", sas.as_str()), ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint.as_str())];
    same_as_local(&data, &FILES, &env, true);
    // A SAS that is not Azure's (signature changed): refused, and the token is not shown.
    let bad = sas.replace("sig=", "sig=AAAA");
    let out = copc(&["info", &format!("az://{CONTAINER}/{}", FILES[0])], &[("AZURE_STORAGE_SAS_TOKEN", &bad), ("AZURE_STORAGE_BLOB_ENDPOINT", &endpoint)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&format!("az://{CONTAINER}/{}", FILES[0])), "{err}");
    assert!(!err.contains("sig="), "the SAS in the message: {err}");
}

#[test]
fn wrong_key_missing_blob_and_no_credentials_say_what_to_fix() {
    let Some(data) = emulators::test_data() else { return };
    let (_az, endpoint) = azurite_with(&data, &FILES[..1]);
    let wrong = "d3Jvbmcta2V5LWZvci10ZXN0aW5nLW9ubHk=";
    let env = [("AZURE_STORAGE_ACCOUNT_NAME", AZ_ACCOUNT), ("AZURE_STORAGE_ACCOUNT_KEY", wrong), ("AZURE_STORAGE_BLOB_ENDPOINT", &endpoint)];
    let out = copc(&["info", &format!("az://{CONTAINER}/{}", FILES[0])], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("refused the signature"), "{err}");
    assert!(!err.contains(wrong), "{err}");
    let env = [("AZURE_STORAGE_ACCOUNT_NAME", AZ_ACCOUNT), ("AZURE_STORAGE_ACCOUNT_KEY", AZ_KEY), ("AZURE_STORAGE_BLOB_ENDPOINT", &endpoint)];
    let out = copc(&["info", &format!("az://{CONTAINER}/missing.copc.laz")], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no such blob 'missing.copc.laz' in container 'copc-test'"), "{err}");
    assert!(!err.contains(AZ_KEY), "{err}");
    let out = copc(&["info", &format!("az://{CONTAINER}/{}", FILES[0])], &[("AZURE_STORAGE_ACCOUNT_NAME", AZ_ACCOUNT)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Azure credentials found") && err.contains("AZURE_STORAGE_SAS_TOKEN"), "{err}");
}

#[test]
fn requests_over_azure_follow_the_http_plan() {
    let Some(data) = emulators::test_data() else { return };
    let f = "pdal_lone-star.copc.laz";
    let (_az, endpoint) = azurite_with(&data, &[f]);
    let web = http_server::serve_file(data.join(f));
    let opts = ReaderOptions {
        http: HttpOptions {
            store: StoreOptions {
                azure_account: Some(AZ_ACCOUNT.into()),
                azure_key: Some(AZ_KEY.into()),
                azure_endpoint: Some(endpoint.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    };
    let over_az = Reader::open_with(format!("az://{CONTAINER}/{f}"), &opts).unwrap();
    let over_http = Reader::open_with(web.url(), &opts).unwrap();
    let (min, max) = (over_http.header().min, over_http.header().max);
    let q = Query::new().bounds(Bounds::xy(min[0], min[1], (min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0)).resolution(over_http.info().spacing / 8.0);
    assert_eq!(over_az.count(&q).unwrap(), over_http.count(&q).unwrap());
    let (a, h) = (over_az.source_stats(), over_http.source_stats());
    assert_eq!((a.requests, a.bytes), (h.requests, h.bytes), "Azure {a:?} vs HTTP {h:?}");
    assert_eq!(web.requests(), h.requests);
}

/// The account-key variables for Azurite at `endpoint`.
fn key_env(endpoint: &str) -> [(&'static str, &str); 3] {
    [("AZURE_STORAGE_ACCOUNT_NAME", AZ_ACCOUNT), ("AZURE_STORAGE_ACCOUNT_KEY", AZ_KEY), ("AZURE_STORAGE_BLOB_ENDPOINT", endpoint)]
}

#[test]
fn las_and_laz_inputs_in_a_container_translate_like_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let (_az, endpoint) = azurite_with(&data, &TRANSLATE_INPUTS);
    let home = tempfile::tempdir().unwrap();
    let env = key_env(&endpoint);
    for f in TRANSLATE_INPUTS {
        let (remote, local) = emulators::translate_remote_and_local(&format!("az://{CONTAINER}/{f}"), &data.join(f), &[], &env, home.path());
        assert!(remote == local, "{f}: {} bytes from Azure, {} from the local file", remote.len(), local.len());
    }
    // With a SAS and the endpoint as a flag.
    let sas = container_sas();
    let f = TRANSLATE_INPUTS[0];
    let (remote, local) = emulators::translate_remote_and_local(
        &format!("az://{CONTAINER}/{f}"),
        &data.join(f),
        &["--azure-endpoint", &endpoint],
        &[("AZURE_STORAGE_SAS_TOKEN", &sas)],
        home.path(),
    );
    assert!(remote == local, "{f} with a SAS");
    let err = emulators::translate_fails(&format!("az://{CONTAINER}/missing.laz"), &[], &env, home.path());
    assert!(err.contains(&format!("az://{CONTAINER}/missing.laz")) && err.contains("no such blob 'missing.laz'"), "{err}");
    assert!(!err.contains(AZ_KEY), "{err}");
}

#[test]
fn the_shared_ept_dataset_in_a_container_translates_like_the_local_one() {
    let Some(data) = emulators::test_data() else { return };
    let ds = data.join(EPT_DATASET);
    let (_az, endpoint) = azurite_with(&data, &[]);
    for (rel, path) in emulators::files_under(&ds) {
        let url = format!("{endpoint}/{CONTAINER}/{EPT_DATASET}/{rel}");
        put(&url, &[("x-ms-blob-type", "BlockBlob".into())], std::fs::read(path).unwrap());
    }
    let home = tempfile::tempdir().unwrap();
    let env = key_env(&endpoint);
    let url = format!("az://{CONTAINER}/{EPT_DATASET}/ept.json");
    let (remote, local) = emulators::translate_remote_and_local(&url, &ds.join("ept.json"), &[], &env, home.path());
    assert!(remote == local, "{} bytes from Azure, {} from the folder", remote.len(), local.len());
    let err = emulators::translate_fails(&format!("az://{CONTAINER}/nothing/ept.json"), &[], &env, home.path());
    assert!(err.contains(&format!("az://{CONTAINER}/nothing/ept.json")) && err.contains("no such blob"), "{err}");
}
