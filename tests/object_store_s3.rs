//! s3:// sources against s3s-fs, an S3 server that verifies SigV4, on 127.0.0.1
//! (installed by scripts/test; a missing emulator fails with what to install).
//! Every answer is compared with an independent path: the local file, the plain
//! HTTP engine on the test server (request plan), the proxy's own request count.

#[path = "support/emulators.rs"]
mod emulators;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http_server.rs"]
mod http_server;

use copc::writer::WriterOptions;
use copc::writer::input::{InputFile, Storage};
use copc::{HttpOptions, Query, Reader, ReaderOptions, StoreOptions};
use emulators::{middle_box, ACCESS_KEY, BUCKET, EPT_DATASET, FILES, SECRET_KEY, TRANSLATE_INPUTS, copc, count, info, queries, stdout};
use fault_proxy::{Fault, Proxy};
use std::path::Path;
use std::time::Duration;

fn keys_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
    ]
}

fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn info_and_counts_over_s3_equal_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES, true);
    let home = tempfile::tempdir().unwrap();
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    for f in FILES {
        let local = data.join(f);
        let url = format!("s3://{BUCKET}/{f}");
        assert_eq!(info(&url, &env, home.path()), info(local.to_str().unwrap(), &[], home.path()), "{f}");
        for q in queries(&local) {
            let (remote, here) = (count(&url, &q, &env, home.path()), count(local.to_str().unwrap(), &q, &[], home.path()));
            assert_eq!(remote, here, "{f} {q:?}");
        }
    }
}

fn s3_options(endpoint: &str, key: &str, secret: &str) -> ReaderOptions {
    ReaderOptions {
        http: HttpOptions {
            backoff_base: Duration::from_millis(5),
            store: StoreOptions {
                s3_access_key_id: Some(key.into()),
                s3_secret_access_key: Some(secret.into()),
                s3_endpoint: Some(endpoint.into()),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// X, Y, Z of every point of a query, in order.
fn points(r: &Reader, q: &Query) -> Vec<[f64; 3]> {
    let mut out = Vec::new();
    for batch in r.points(q).unwrap() {
        let b = batch.unwrap();
        let (x, y, z): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (b.column(copc::Dimension::X).unwrap(), b.column(copc::Dimension::Y).unwrap(), b.column(copc::Dimension::Z).unwrap());
        out.extend((0..x.len()).map(|i| [x[i], y[i], z[i]]));
    }
    out
}

#[test]
fn requests_over_s3_follow_the_http_plan() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES, true);
    let proxy = Proxy::start(s3.port);
    for f in FILES {
        let local = data.join(f);
        let web = http_server::serve_file(&local);
        let opts = s3_options(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY);
        proxy.reset();
        let over_s3 = Reader::open_with(format!("s3://{BUCKET}/{f}"), &opts).unwrap();
        let over_http = Reader::open_with(web.url(), &opts).unwrap();
        let q = Query::new().bounds(middle_box(&over_http));
        let (a, b) = (points(&over_s3, &q), points(&over_http, &q));
        assert_eq!(a, points(&Reader::open(local.to_str().unwrap()).unwrap(), &q), "{f}: S3 points vs local");
        assert_eq!(a, b, "{f}");
        let (s, h) = (over_s3.source_stats(), over_http.source_stats());
        assert_eq!(s.requests, h.requests, "{f}: S3 {s:?} vs HTTP {h:?}");
        assert_eq!(s.bytes, h.bytes, "{f}: S3 {s:?} vs HTTP {h:?}");
        assert_eq!(proxy.requests(), s.requests, "{f}: requests the proxy saw vs our counter");
        assert_eq!(web.requests(), h.requests, "{f}: requests the test server saw vs our counter");
        if f == "pdal_lone-star.copc.laz" {
            eprintln!("CLOSING-NOTE {f} middle box: S3 {} requests {} bytes; HTTP {} requests {} bytes", s.requests, s.bytes, h.requests, h.bytes);
        }
    }
}

#[test]
fn a_wrong_secret_is_refused_and_named_without_the_secret() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES[..1], true);
    let home = tempfile::tempdir().unwrap();
    let wrong = "wrong-secret-Kd93nV";
    let env = [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", wrong), ("AWS_ENDPOINT_URL", &s3.endpoint())];
    let out = copc(&["info", &format!("s3://{BUCKET}/{}", FILES[0])], &env, home.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("secret key does not match") && err.contains(&format!("s3://{BUCKET}/{}", FILES[0])), "{err}");
    assert!(!err.contains(wrong) && !err.contains(SECRET_KEY), "a secret in the message: {err}");
    // Options override the environment: the right secret in the options wins.
    let opts = s3_options(&s3.endpoint(), ACCESS_KEY, SECRET_KEY);
    assert!(Reader::open_with(format!("s3://{BUCKET}/{}", FILES[0]), &opts).is_ok());
    let bad = s3_options(&s3.endpoint(), ACCESS_KEY, wrong);
    let e = Reader::open_with(format!("s3://{BUCKET}/{}", FILES[0]), &bad).err().expect("wrong secret refused");
    assert!(e.to_string().contains("SignatureDoesNotMatch") && !e.to_string().contains(wrong), "{e}");
}

#[test]
fn missing_keys_buckets_and_credentials_say_what_to_fix() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES[..1], true);
    let home = tempfile::tempdir().unwrap();
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    let fail = |url: &str, env: &[(&str, &str)]| {
        let out = copc(&["info", url], env, home.path());
        assert!(!out.status.success(), "{url} opened");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = fail(&format!("s3://{BUCKET}/nothing-here.copc.laz"), &env);
    assert!(err.contains("no such key 'nothing-here.copc.laz' in bucket 'copc-test'"), "{err}");
    let err = fail("s3://no-such-bucket/a.copc.laz", &env);
    assert!(err.contains("no such bucket 'no-such-bucket'") || err.contains("no such key"), "{err}");
    // No credentials anywhere: the message lists where we looked.
    let err = fail(&format!("s3://{BUCKET}/{}", FILES[0]), &[("AWS_ENDPOINT_URL", &s3.endpoint())]);
    assert!(err.contains("no AWS credentials found") && err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_NO_SIGN_REQUEST"), "{err}");
    // Anonymous against a private bucket.
    let err = fail(&format!("s3://{BUCKET}/{}", FILES[0]), &[("AWS_ENDPOINT_URL", &s3.endpoint()), ("AWS_NO_SIGN_REQUEST", "YES")]);
    assert!(err.contains("access denied") && err.contains("not public"), "{err}");
    // An endpoint where nothing listens: reported at once (one short retry).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = std::time::Instant::now();
    let err = fail(&format!("s3://{BUCKET}/{}", FILES[0]), &[("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{closed}")), ("AWS_NO_SIGN_REQUEST", "YES")]);
    assert!(err.contains("refused") || err.contains("connection failed"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}: {err}", t.elapsed());
}

#[test]
fn anonymous_access_to_a_public_bucket() {
    let Some(data) = emulators::test_data() else { return };
    let public = emulators::s3(&data, &FILES, false);
    let home = tempfile::tempdir().unwrap();
    let env = [("AWS_NO_SIGN_REQUEST", "YES"), ("AWS_ENDPOINT_URL", &public.endpoint())];
    for f in [FILES[0], FILES[2]] {
        let local = data.join(f);
        for q in queries(&local) {
            assert_eq!(
                count(&format!("s3://{BUCKET}/{f}"), &q, &env, home.path()),
                count(local.to_str().unwrap(), &q, &[], home.path()),
                "{f} {q:?}"
            );
        }
    }
    // The same with the command-line flag and endpoint option instead of variables.
    let n = stdout(&copc(
        &["query", &format!("s3://{BUCKET}/{}", FILES[0]), "--count", "--no-sign-request", "--s3-endpoint", &public.endpoint()],
        &[],
        home.path(),
    ));
    assert_eq!(n.trim().parse::<u64>().unwrap(), Reader::open(data.join(FILES[0]).to_str().unwrap()).unwrap().header().point_count);
}

#[test]
fn a_profile_in_a_shared_credentials_file() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES[..1], true);
    let home = tempfile::tempdir().unwrap();
    let creds = home.path().join("credentials");
    std::fs::write(
        &creds,
        format!("[default]\naws_access_key_id = NOTTHIS\naws_secret_access_key = nope\n\n[copc]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    let url = format!("s3://{BUCKET}/{}", FILES[0]);
    let env = [("AWS_PROFILE", "copc"), ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()), ("AWS_ENDPOINT_URL", &s3.endpoint())];
    let want = Reader::open(data.join(FILES[0]).to_str().unwrap()).unwrap().header().point_count;
    assert_eq!(count(&url, &[], &env, home.path()), want);
    // ~/.aws/credentials found through HOME, profile from the command line.
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::copy(&creds, home.path().join(".aws/credentials")).unwrap();
    let out = copc(&["query", &url, "--count", "--s3-profile", "copc", "--s3-endpoint", &s3.endpoint()], &[], home.path());
    assert_eq!(stdout(&out).trim().parse::<u64>().unwrap(), want);
    // The default profile holds wrong keys: refused.
    let out = copc(&["info", &url, "--s3-endpoint", &s3.endpoint()], &[], home.path());
    assert!(!out.status.success());
}

#[test]
fn stats_and_errors_never_show_credentials() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES[..1], true);
    let home = tempfile::tempdir().unwrap();
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    let url = format!("s3://{BUCKET}/{}", FILES[0]);
    for args in [
        vec!["query", url.as_str(), "--count", "--stats"],
        vec!["info", "--json", url.as_str()],
        vec!["validate", url.as_str()],
        vec!["query", "s3://copc-test/missing.laz", "--count", "--stats"],
    ] {
        let out = copc(&args, &env, home.path());
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains(SECRET_KEY) && !all.contains(ACCESS_KEY), "{args:?}: {all}");
    }
}

#[test]
fn faults_between_reader_and_store_are_retried_or_reported() {
    let Some(data) = emulators::test_data() else { return };
    let f = "pdal_lone-star.copc.laz";
    let s3 = emulators::s3(&data, &[f], true);
    let proxy = Proxy::start(s3.port);
    let local = Reader::open(data.join(f).to_str().unwrap()).unwrap();
    let q = Query::new().bounds(middle_box(&local));
    let want = points(&local, &q);
    let url = format!("s3://{BUCKET}/{f}");
    let opts = s3_options(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY);
    for faults in [
        vec![Fault::Status(503, None), Fault::Status(500, None)],
        vec![Fault::Truncate, Fault::Drop],
        vec![Fault::Status(429, Some(1))],
    ] {
        proxy.inject(&faults);
        let t = std::time::Instant::now();
        let r = Reader::open_with(&url, &opts).unwrap();
        assert_eq!(points(&r, &q), want, "{faults:?}");
        assert_eq!(r.source_stats().retries, faults.len() as u64, "{faults:?}");
        if matches!(faults[0], Fault::Status(429, Some(1))) {
            assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After: 1 not honoured: {:?}", t.elapsed());
        }
    }
    // A permanent fault: a clear error naming the object, never wrong points.
    let few = ReaderOptions { http: HttpOptions { max_retries: 2, ..opts.http.clone() }, ..Default::default() };
    proxy.inject(&[Fault::Status(503, None), Fault::Status(503, None), Fault::Status(503, None)]);
    let e = Reader::open_with(&url, &few).err().expect("three 503s with 2 retries");
    assert!(e.to_string().contains(&url) && e.to_string().contains("503"), "{e}");
    // A server asking for a wait longer than we allow: at once.
    proxy.inject(&[Fault::Status(503, Some(3600))]);
    let t = std::time::Instant::now();
    let e = Reader::open_with(&url, &few).err().expect("Retry-After: 3600");
    assert!(e.to_string().contains("3600 s") && t.elapsed() < Duration::from_secs(2), "{e} after {:?}", t.elapsed());
}

#[test]
fn an_ept_dataset_in_a_bucket_translates_like_the_local_one() {
    let Some(data) = emulators::test_data() else { return };
    let f = "pdal_1.2-with-color.copc.laz";
    // The emulator's bucket folder receives an EPT export of a shared file.
    let s3 = emulators::s3(&data, &[], true);
    let home = tempfile::tempdir().unwrap();
    let local_ds = home.path().join("ds");
    copc::ept::export::export_copc_as_ept(data.join(f), &local_ds).unwrap();
    let bucket_dir = s3.dir().join(BUCKET).join("ds");
    copy_dir(&local_ds, &bucket_dir);
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    let (from_s3, from_dir) = (home.path().join("s3.copc.laz"), home.path().join("dir.copc.laz"));
    stdout(&copc(&["translate", &format!("s3://{BUCKET}/ds/ept.json"), from_s3.to_str().unwrap()], &env, home.path()));
    stdout(&copc(&["translate", local_ds.join("ept.json").to_str().unwrap(), from_dir.to_str().unwrap()], &[], home.path()));
    assert_eq!(std::fs::read(&from_s3).unwrap(), std::fs::read(&from_dir).unwrap(), "the same bytes from S3 and from the folder");
    let n = Reader::open(from_s3.to_str().unwrap()).unwrap().header().point_count;
    assert_eq!(n, Reader::open(data.join(f).to_str().unwrap()).unwrap().header().point_count);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_bucket_in_another_region_is_named_with_its_region() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &FILES[..1], true);
    let proxy = Proxy::start(s3.port);
    // What S3 answers a request signed for the wrong region (an emulator has one region).
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AuthorizationHeaderMalformed</Code>\
                <Message>the region 'us-east-1' is wrong; expecting 'eu-west-3'</Message><Region>eu-west-3</Region></Error>";
    proxy.inject(&[Fault::Answer(400, vec![("x-amz-bucket-region".into(), "eu-west-3".into())], body.into())]);
    let opts = s3_options(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY);
    let e = Reader::open_with(format!("s3://{BUCKET}/{}", FILES[0]), &opts).err().expect("a wrong region is refused");
    let text = e.to_string();
    assert!(text.contains("bucket 'copc-test' is in region eu-west-3, not us-east-1") && text.contains("AWS_REGION=eu-west-3"), "{text}");
    assert_eq!(proxy.requests(), 1, "a wrong region is not retried");
    // With the region set, the same file opens.
    let mut right = s3_options(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY);
    right.http.store.s3_region = Some("us-east-1".into());
    assert!(Reader::open_with(format!("s3://{BUCKET}/{}", FILES[0]), &right).is_ok());
}

#[test]
fn las_and_laz_inputs_in_a_bucket_translate_like_the_local_files() {
    let Some(data) = emulators::test_data() else { return };
    let s3 = emulators::s3(&data, &TRANSLATE_INPUTS, true);
    let home = tempfile::tempdir().unwrap();
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    for f in TRANSLATE_INPUTS {
        let (remote, local) = emulators::translate_remote_and_local(&format!("s3://{BUCKET}/{f}"), &data.join(f), &[], &env, home.path());
        assert!(remote == local, "{f}: {} bytes from S3, {} from the local file", remote.len(), local.len());
    }
    // Two inputs merged, one from the bucket, one local; the endpoint as a flag.
    let a = TRANSLATE_INPUTS[1];
    let out = tempfile::tempdir().unwrap();
    let (mixed, here) = (out.path().join("mixed.copc.laz"), out.path().join("here.copc.laz"));
    let keys = [env[0], env[1]];
    let s3_a = format!("s3://{BUCKET}/{a}");
    stdout(&copc(&["translate", &s3_a, data.join(a).to_str().unwrap(), mixed.to_str().unwrap(), "--s3-endpoint", &s3.endpoint()], &keys, home.path()));
    stdout(&copc(&["translate", data.join(a).to_str().unwrap(), data.join(a).to_str().unwrap(), here.to_str().unwrap()], &[], home.path()));
    assert!(std::fs::read(&mixed).unwrap() == std::fs::read(&here).unwrap(), "{a} twice: S3 + local vs local + local");
    // A missing key: the URL and what is wrong, no output, no credential.
    let err = emulators::translate_fails(&format!("s3://{BUCKET}/missing.laz"), &[], &env, home.path());
    assert!(err.contains(&format!("s3://{BUCKET}/missing.laz")) && err.contains("no such key 'missing.laz'"), "{err}");
    assert!(!err.contains(SECRET_KEY) && !err.contains(ACCESS_KEY), "{err}");
    // A wrong secret: refused, named, not shown.
    let wrong = [env[0], ("AWS_SECRET_ACCESS_KEY", "wrong-secret-Kd93nV"), env[2]];
    let err = emulators::translate_fails(&format!("s3://{BUCKET}/{}", TRANSLATE_INPUTS[0]), &[], &wrong, home.path());
    assert!(err.contains("secret key does not match") && !err.contains("wrong-secret-Kd93nV"), "{err}");
}

#[test]
fn a_laz_input_in_a_bucket_is_read_in_merged_chunk_requests() {
    let Some(data) = emulators::test_data() else { return };
    let f = TRANSLATE_INPUTS[0];
    let s3 = emulators::s3(&data, &[f], true);
    let proxy = Proxy::start(s3.port);
    let out = tempfile::tempdir().unwrap();
    let (remote, local) = (out.path().join("remote.copc.laz"), out.path().join("local.copc.laz"));
    let http = s3_options(&proxy.endpoint(), ACCESS_KEY, SECRET_KEY).http;
    let opts = WriterOptions { threads: Some(2), http, ..Default::default() };
    proxy.reset();
    let s = copc::writer::translate(&[format!("s3://{BUCKET}/{f}")], &remote, &opts).unwrap();
    let requests = proxy.requests();
    copc::writer::translate(&[data.join(f)], &local, &WriterOptions { threads: Some(2), ..Default::default() }).unwrap();
    assert!(std::fs::read(&remote).unwrap() == std::fs::read(&local).unwrap(), "{f}: S3 vs local output");
    let Storage::Laz { chunks, .. } = InputFile::open(data.join(f)).unwrap().storage else { panic!("{f} is chunked LAZ") };
    // open + chunk table + one request per group of adjacent chunks (not one per chunk)
    assert!(requests >= 3 && requests < chunks.len() as u64, "{requests} requests for {} chunks", chunks.len());
    eprintln!("CLOSING-NOTE translate {f} ({} points, {} chunks) from S3: {requests} requests", s.points, chunks.len());
}

#[test]
fn the_shared_ept_dataset_in_a_bucket_translates_like_the_local_one() {
    let Some(data) = emulators::test_data() else { return };
    let ds = data.join(EPT_DATASET);
    let s3 = emulators::s3(&data, &[], true);
    copy_dir(&ds, &s3.dir().join(BUCKET).join(EPT_DATASET));
    let home = tempfile::tempdir().unwrap();
    let env = keys_env(&s3.endpoint());
    let keys = [("AWS_ACCESS_KEY_ID", ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", SECRET_KEY)];
    // the endpoint as a flag: the options reach the dataset's every file
    let url = format!("s3://{BUCKET}/{EPT_DATASET}/ept.json");
    let (remote, local) = emulators::translate_remote_and_local(&url, &ds.join("ept.json"), &["--s3-endpoint", &s3.endpoint()], &keys, home.path());
    assert!(remote == local, "{} bytes from S3, {} from the folder", remote.len(), local.len());
    let err = emulators::translate_fails(&format!("s3://{BUCKET}/nothing/ept.json"), &[], &as_refs(&env), home.path());
    assert!(err.contains(&format!("s3://{BUCKET}/nothing/ept.json")) && err.contains("no such key"), "{err}");
}

#[test]
fn a_laz_input_over_http_translates_like_the_local_file() {
    let Some(data) = emulators::test_data() else { return };
    let home = tempfile::tempdir().unwrap();
    for f in [TRANSLATE_INPUTS[0], TRANSLATE_INPUTS[2]] {
        let web = http_server::serve_file(data.join(f));
        let (remote, local) = emulators::translate_remote_and_local(&web.url(), &data.join(f), &[], &[], home.path());
        assert!(remote == local, "{f}: {} bytes over HTTP, {} from the file", remote.len(), local.len());
        assert!(web.bytes_served() <= std::fs::metadata(data.join(f)).unwrap().len() + 65536, "{f}: {} bytes served", web.bytes_served());
    }
}

/// A VPC and its tiles in a bucket: `copc info`, `query --count --stats` and `query -o`
/// over `s3://…/town.vpc` equal the same commands on the local folder, and the tiles
/// outside the box are never opened (relative hrefs resolved against the bucket URL).
#[test]
fn a_vpc_in_a_bucket_queries_like_the_local_tiles() {
    let s3 = emulators::s3(Path::new("."), &[], true);
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("town");
    std::fs::create_dir(&dir).unwrap();
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    stdout(&copc(&["sample", &p("raw.laz"), "--points", "120000", "--format", "7", "--seed", "5"], &[], home.path()));
    stdout(&copc(&["translate", &p("raw.laz"), &p("all.copc.laz"), "--threads", "2"], &[], home.path()));
    let h: serde_json::Value = info(&p("all.copc.laz"), &[], home.path());
    let (min, max) = (&h["bounds"]["min"], &h["bounds"]["max"]);
    let f = |v: &serde_json::Value, k: usize| v[k].as_f64().unwrap();
    let (mx, my) = ((f(min, 0) + f(max, 0)) / 2.0, (f(min, 1) + f(max, 1)) / 2.0);
    let tiles = std::fs::create_dir(dir.join("tiles")).map(|_| dir.join("tiles")).unwrap();
    // four quadrants (edges shared: a point on a cut goes to both, as in both paths)
    for (i, (x0, y0, x1, y1)) in [(f(min, 0), f(min, 1), mx, my), (mx, f(min, 1), f(max, 0), my), (f(min, 0), my, mx, f(max, 1)), (mx, my, f(max, 0), f(max, 1))].into_iter().enumerate() {
        let t = tiles.join(format!("t{i}.copc.laz"));
        stdout(&copc(&["query", &p("all.copc.laz"), "--bounds", &format!("{x0},{y0},{x1},{y1}"), "-o", t.to_str().unwrap()], &[], home.path()));
    }
    let vpc = tiles.join("town.vpc");
    stdout(&copc(&["index", tiles.to_str().unwrap(), "-o", vpc.to_str().unwrap()], &[], home.path()));
    copy_dir(&tiles, &s3.dir().join(BUCKET).join("town"));
    let env = keys_env(&s3.endpoint());
    let env = as_refs(&env);
    let url = format!("s3://{BUCKET}/town/town.vpc");
    let local = vpc.to_str().unwrap();
    // info lists the tiles: the same counts and bounds, hrefs under the bucket URL
    let (a, b) = (stdout(&copc(&["info", "--json", &url], &env, home.path())), stdout(&copc(&["info", "--json", local], &[], home.path())));
    let (a, b): (serde_json::Value, serde_json::Value) = (serde_json::from_str(&a).unwrap(), serde_json::from_str(&b).unwrap());
    assert_eq!((a["files"].as_u64(), &a["point_count"], &a["bounds"]), (Some(4), &b["point_count"], &b["bounds"]));
    assert!(a["tiles"].as_array().unwrap().iter().all(|t| t["href"].as_str().unwrap().starts_with(&format!("s3://{BUCKET}/town/"))), "{a}");
    // a box inside the first quadrant: one tile opened
    let bx = format!("{},{},{},{}", f(min, 0) + 1.0, f(min, 1) + 1.0, mx - 1.0, my - 1.0);
    let remote = copc(&["query", &url, "--bounds", &bx, "--count", "--stats"], &env, home.path());
    let here = copc(&["query", local, "--bounds", &bx, "--count"], &[], home.path());
    assert_eq!(stdout(&remote), stdout(&here));
    let err = String::from_utf8_lossy(&remote.stderr);
    assert!(err.contains("files 4, files in box 1, files opened 1,"), "{err}");
    // a box across all four: the merged subsets hold the same points
    let cross = format!("{},{},{},{}", mx - 20.0, my - 20.0, mx + 20.0, my + 20.0);
    let (o1, o2) = (home.path().join("s3.las"), home.path().join("dir.las"));
    stdout(&copc(&["query", &url, "--bounds", &cross, "-o", o1.to_str().unwrap()], &env, home.path()));
    stdout(&copc(&["query", local, "--bounds", &cross, "-o", o2.to_str().unwrap()], &[], home.path()));
    let (b1, b2) = (std::fs::read(&o1).unwrap(), std::fs::read(&o2).unwrap());
    assert!(b1.len() > 375 && b1 == b2, "the same LAS bytes from the bucket and from the folder");
}
