//! Object-store emulators on 127.0.0.1 for the object_store_* tests: s3s-fs (an S3
//! server that verifies SigV4), Azurite (Azure Blob) and gcp-storage-emulator
//! (Google Cloud Storage). `scripts/test` installs them under target/tools; a missing emulator is a test failure that says what to
//! install, never a skip.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "COPCTESTACCESSKEY";
pub const SECRET_KEY: &str = "copc-test-secret-Zq8vXw3";
pub const BUCKET: &str = "copc-test";

/// The valid COPC files of the shared data that every cloud test reads.
pub const FILES: [&str; 5] = [
    "pdal_1.2-with-color.copc.laz",
    "laspy_simple_with_page.copc.laz",
    "pdal_lone-star.copc.laz",
    "pdal_ellipsoid-eb.copc.laz",
    "lastools_example.copc.laz",
];

/// COPC_TEST_DATA, or None after saying SKIPPED (the project's rule for real files).
pub fn test_data() -> Option<PathBuf> {
    match std::env::var_os("COPC_TEST_DATA") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("SKIPPED: COPC_TEST_DATA not set (scripts/test sets it to ../shared/data)");
            None
        }
    }
}

fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on 127.0.0.1:{port}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on 127.0.0.1:{port} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running emulator; dropping it stops it.
pub struct Emulator {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Emulator {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The emulator's storage folder (for s3s-fs: one folder per bucket).
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3s_fs_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("COPC_S3S_FS") {
        return p.into();
    }
    let local = tools_dir().join("bin/s3s-fs");
    if local.exists() {
        return local;
    }
    if let Some(found) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join("s3s-fs")).find(|p| p.exists())
    }) {
        return found;
    }
    panic!(
        "the S3 emulator s3s-fs is not installed: run scripts/test (it installs it), or \
         `cargo install --locked s3s-fs@0.14.1 --features binary --root target/tools`, or set COPC_S3S_FS"
    );
}

/// s3s-fs serving bucket BUCKET holding `files` from `data`. With `auth` it checks
/// SigV4 signatures for ACCESS_KEY/SECRET_KEY; without, every request is anonymous
/// (a public bucket).
pub fn s3(data: &Path, files: &[&str], auth: bool) -> Emulator {
    let dir = tempfile::tempdir().expect("temp dir");
    let bucket = dir.path().join(BUCKET);
    std::fs::create_dir_all(&bucket).unwrap();
    for f in files {
        std::fs::copy(data.join(f), bucket.join(f)).unwrap_or_else(|e| panic!("copy {f}: {e}"));
    }
    let port = free_port();
    let mut cmd = Command::new(s3s_fs_binary());
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
    if auth {
        cmd.args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY]);
    }
    let mut child = cmd
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start s3s-fs: {e}"));
    wait_for_port(port, &mut child, "s3s-fs");
    Emulator { child, port, _dir: dir }
}

/// Azurite's well-known development account (public by design).
pub const AZ_ACCOUNT: &str = "devstoreaccount1";
pub const AZ_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
pub const CONTAINER: &str = "copc-test";

fn azurite_script() -> PathBuf {
    if let Some(p) = std::env::var_os("COPC_AZURITE") {
        return p.into();
    }
    let local = tools_dir().join("azurite/node_modules/azurite/dist/src/blob/main.js");
    if local.exists() {
        return local;
    }
    panic!(
        "the Azure emulator Azurite is not installed: run scripts/test (it installs it), or \
         `npm install --prefix target/tools/azurite azurite@3.35.0` (node >= 18), or set COPC_AZURITE to its \
         dist/src/blob/main.js"
    );
}

/// Azurite's blob service on a free port (loopback only), empty.
pub fn azurite() -> Emulator {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = Command::new("node")
        .arg(azurite_script())
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--silent", "--skipApiVersionCheck"])
        .arg("--location")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Azurite with node (node >= 18 must be on PATH): {e}"));
    wait_for_port(port, &mut child, "Azurite");
    Emulator { child, port, _dir: dir }
}

/// gcp-storage-emulator's Python (a venv under target/tools made by scripts/test).
fn gcs_emulator_python() -> PathBuf {
    if let Some(p) = std::env::var_os("COPC_GCS_EMULATOR_PYTHON") {
        return p.into();
    }
    let local = tools_dir().join("gcp-storage-emulator/bin/python3");
    if local.exists() {
        return local;
    }
    panic!(
        "the Google Cloud Storage emulator is not installed: run scripts/test (it installs it), or \
         `python3 -m venv target/tools/gcp-storage-emulator && target/tools/gcp-storage-emulator/bin/pip install \
         gcp-storage-emulator==2026.7.19`, or set COPC_GCS_EMULATOR_PYTHON to a Python that imports gcp_storage_emulator"
    );
}

/// gcp-storage-emulator on a free loopback port, in memory, with bucket BUCKET
/// holding `files` from `data` (uploaded with its XML API PUT). It checks no tokens:
/// the gs:// tests see what we send through the fault proxy.
pub fn gcs(data: &Path, files: &[&str]) -> Emulator {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = Command::new(gcs_emulator_python())
        .args(["-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--in-memory", "--default-bucket", BUCKET])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start gcp-storage-emulator: {e}"));
    wait_for_port(port, &mut child, "gcp-storage-emulator");
    let emulator = Emulator { child, port, _dir: dir };
    for f in files {
        gcs_put(&emulator, f, std::fs::read(data.join(f)).unwrap_or_else(|e| panic!("read {f}: {e}")));
    }
    emulator
}

/// Uploads `body` as object `name` of BUCKET.
pub fn gcs_put(emulator: &Emulator, name: &str, body: Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = format!("{}/{BUCKET}/{name}", emulator.endpoint());
    let answer = agent.put(&url).header("Content-Type", "application/octet-stream").send(&body[..]).unwrap();
    assert!(answer.status().is_success(), "PUT {url}: {}", answer.status());
}

// --- the copc CLI against a store, shared by the object_store_* tests ---

/// `copc ARGS` with only the environment given (plus PATH, and HOME in an empty
/// folder so no real ~/.aws or gcloud file is read; instance metadata off (AWS and
/// GCE; a test may set NO_GCE_CHECK=false again): nothing leaves loopback).
pub fn copc(args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copc"));
    cmd.args(args).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("HOME", home).env("AWS_EC2_METADATA_DISABLED", "true").env("NO_GCE_CHECK", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run copc")
}

pub fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "copc failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// info --json without the "source" field (the name differs by design).
pub fn info(target: &str, env: &[(&str, &str)], home: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&stdout(&copc(&["info", "--json", target], env, home))).unwrap();
    v.as_object_mut().unwrap().remove("source");
    v
}

/// The queries of the issue: all points, a 2-D box (the middle quarter of the
/// bounds), a resolution (the root spacing / 4).
pub fn queries(local: &Path) -> Vec<Vec<String>> {
    let r = copc::Reader::open(local.to_str().unwrap()).unwrap();
    let (min, max) = (r.header().min, r.header().max);
    let (w, h) = (max[0] - min[0], max[1] - min[1]);
    let bbox = format!("{},{},{},{}", min[0] + w / 4.0, min[1] + h / 4.0, max[0] - w / 4.0, max[1] - h / 4.0);
    let res = (r.info().spacing / 4.0).to_string();
    vec![vec![], vec!["--bounds".into(), bbox], vec!["--resolution".into(), res]]
}

pub fn count(target: &str, extra: &[String], env: &[(&str, &str)], home: &Path) -> u64 {
    let mut args = vec!["query", target, "--count"];
    args.extend(extra.iter().map(String::as_str));
    stdout(&copc(&args, env, home)).trim().parse().unwrap()
}

// --- `copc translate` with inputs in a store, shared by the object_store_* tests ---

/// LAS/LAZ inputs of the translate tests: chunked LAZ (518 862 points, 11 chunks),
/// LAS 1.2 with colour, LAS 1.4 with extra bytes, a LASzip 1.x point-wise stream.
pub const TRANSLATE_INPUTS: [&str; 4] =
    ["pdal_lone-star-source.laz", "pdal_1.2-with-color.las", "laspy_extrabytes.las", "pdal_laszip-v1.2r0-pointwise.laz"];

/// The shared EPT dataset (laszip tiles), uploaded by the EPT tests.
pub const EPT_DATASET: &str = "ept_lone-star-laszip";

/// Every file under `dir`, as (path relative to `dir` with '/', absolute path).
pub fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    out
}

/// `copc translate REMOTE ARGS` and `copc translate LOCAL` (same threads, no other
/// option): the bytes of both outputs. The local translate is the independent path
/// (tests/writer.rs checks it against xcheck).
pub fn translate_remote_and_local(remote: &str, local: &Path, args: &[&str], env: &[(&str, &str)], home: &Path) -> (Vec<u8>, Vec<u8>) {
    let out = tempfile::tempdir().unwrap();
    let (a, b) = (out.path().join("remote.copc.laz"), out.path().join("local.copc.laz"));
    let remote_args = [&["translate", remote, a.to_str().unwrap(), "--threads", "2"], args].concat();
    stdout(&copc(&remote_args, env, home));
    stdout(&copc(&["translate", local.to_str().unwrap(), b.to_str().unwrap(), "--threads", "2"], &[], home));
    (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap())
}

/// `copc translate MISSING OUT ARGS`: checks that it fails and leaves nothing in the
/// output's folder; returns stderr.
pub fn translate_fails(remote: &str, args: &[&str], env: &[(&str, &str)], home: &Path) -> String {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("out.copc.laz");
    let o = copc(&[&["translate", remote, target.to_str().unwrap()], args].concat(), env, home);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "translate {remote} succeeded: {}", String::from_utf8_lossy(&o.stdout));
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "translate {remote} failed but left {left:?} ({err})");
    err
}

/// The middle quarter of a file's bounds (the box query the cloud tests compare).
pub fn middle_box(r: &copc::Reader) -> copc::Bounds {
    let (min, max) = (r.header().min, r.header().max);
    let (w, h) = (max[0] - min[0], max[1] - min[1]);
    copc::Bounds::xy(min[0] + w / 4.0, min[1] + h / 4.0, max[0] - w / 4.0, max[1] - h / 4.0)
}
