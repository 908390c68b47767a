//! The tools: ours (copc-bench's own workers), the peers, and how each one's thread
//! count is set. A peer that cannot be installed or built stays in the tables as
//! "not available: <reason>".

use super::{Args, Ctx, capture};
use std::path::{Path, PathBuf};
use std::process::Command;

pub type MakeCommand = Box<dyn Fn() -> Command>;

pub struct Tool {
    pub name: String,
    /// The thread count it runs with and how that is set.
    pub threads: String,
    pub command: Result<MakeCommand, String>,
    pub is_ours: bool,
    pub is_limit: bool,
}

/// What a read row asks for.
#[derive(Debug, Clone, Default)]
pub struct ReadQuery {
    pub bounds: Option<String>,
    pub resolution: Option<String>,
    pub xyz: bool,
}

/// Peers found (or why not), with their versions.
pub struct Peers {
    pub laspy: Result<String, String>,
    pub copclib: Result<String, String>,
    pub copc_rs: Result<PathBuf, String>,
    pub converter: Result<PathBuf, String>,
    pub converter_version: String,
    /// untwine (PDAL's COPC builder), for the large rows: in no package registry, so it
    /// is found (`COPC_BENCH_UNTWINE`, else `untwine` on PATH), never installed.
    pub untwine: Result<PathBuf, String>,
}

pub const LASPY_PIP: [&str; 2] = ["laspy[lazrs]==2.7.0", "lazrs==0.8.2"];
pub const COPCLIB_PIP: &str = "copclib==2.6.3";
pub const CONVERTER_VERSION: &str = "0.16.0";

/// The repository root (this package lives in `bench/`): `.ci/`, `target/`, `bench/peers/`.
pub fn manifest_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `COPC_BENCH_UNTWINE`, else `untwine` on PATH, when it answers `--version`.
fn find_untwine() -> Result<PathBuf, String> {
    let bin = std::env::var_os("COPC_BENCH_UNTWINE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("untwine"));
    match Command::new(&bin).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(bin),
        _ => Err(format!("not available: {} not found (build it against PDAL, set COPC_BENCH_UNTWINE)", bin.display())),
    }
}

pub fn peers_dir() -> PathBuf {
    manifest_dir().join("target/bench-peers")
}

fn script(name: &str) -> PathBuf {
    manifest_dir().join("bench/peers").join(name)
}

/// Every child gets the same thread count through the usual variables (rayon for
/// laz-rs/lazrs, OpenMP/BLAS/numba for anything numpy might start); tools with a
/// flag of their own get it on the command line too.
pub fn set_threads(cmd: &mut Command, n: usize) {
    for v in ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"] {
        cmd.env(v, n.to_string());
    }
}

fn python_module(check: &str, pip: &[&str], install: bool) -> Result<String, String> {
    let probe = || capture(Command::new("python3").args(["-c", check]));
    match probe() {
        Ok(v) => Ok(v),
        Err(first) if install => {
            eprintln!("copc-bench: installing {} with pip", pip.join(" "));
            let mut c = Command::new("python3");
            c.args(["-m", "pip", "install", "--quiet"]).args(pip);
            capture(&mut c).map_err(|e| format!("not available: pip install failed: {e}"))?;
            probe().map_err(|e| format!("not available: {e} (before install: {first})"))
        }
        Err(e) => Err(format!("not available: {e}")),
    }
}

impl Peers {
    pub fn find(args: &Args, _work: &Path) -> Peers {
        // --only-pdal, --only-arrow, --only-python and --only-dataset need none of them
        // (their rows compare with PDAL's own stages, our native read and GDAL, laspy in
        // the venv)
        if args.no_peers || args.only_pdal || args.only_arrow || args.only_python || args.only_dataset {
            let why = if args.no_peers {
                "skipped (--no-peers)"
            } else if args.only_pdal {
                "skipped (--only-pdal)"
            } else if args.only_arrow {
                "skipped (--only-arrow)"
            } else if args.only_python {
                "skipped (--only-python: laspy comes from the Python rows' venv)"
            } else {
                "skipped (--only-dataset: laspy comes from the dataset rows' venv)"
            };
            let skip = || Err(why.to_string());
            return Peers { laspy: skip(), copclib: skip(), copc_rs: Err(why.to_string()), converter: Err(why.to_string()), converter_version: String::new(), untwine: Err(why.to_string()) };
        }
        let install = !args.no_install;
        let laspy = python_module(
            "import laspy, lazrs, importlib.metadata as m; print('laspy', laspy.__version__, '+ lazrs', m.version('lazrs'))",
            &LASPY_PIP,
            install,
        );
        let copclib = python_module("import copclib, importlib.metadata as m; print('copclib', m.version('copclib'))", &[COPCLIB_PIP], install);

        let dir = peers_dir();
        let copc_rs_bin = dir.join("copc-rs/release/copc-rs-bench");
        let copc_rs = if install {
            eprintln!("copc-bench: building the copc-rs harness (bench/peers/copc-rs)");
            let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            c.args(["build", "--release", "--quiet", "--manifest-path"])
                .arg(manifest_dir().join("bench/peers/copc-rs/Cargo.toml"))
                .arg("--target-dir")
                .arg(dir.join("copc-rs"));
            capture(&mut c).map(|_| copc_rs_bin.clone()).map_err(|e| format!("not available: build failed: {e}"))
        } else if copc_rs_bin.exists() {
            Ok(copc_rs_bin)
        } else {
            Err("not available: not built (--no-install)".into())
        };

        let conv_bin = dir.join("bin/copc_converter");
        let converter = if conv_bin.exists() {
            Ok(conv_bin.clone())
        } else if install {
            eprintln!("copc-bench: cargo install copc_converter {CONVERTER_VERSION} (takes a few minutes)");
            let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            c.args(["install", "--quiet", "copc_converter", "--version", CONVERTER_VERSION, "--root"]).arg(&dir);
            capture(&mut c).map(|_| conv_bin.clone()).map_err(|e| format!("not available: cargo install failed: {e}"))
        } else {
            Err("not available: not installed (--no-install)".into())
        };
        let converter_version = match &converter {
            Ok(b) => capture(Command::new(b).arg("--version")).unwrap_or_default(),
            Err(_) => String::new(),
        };
        Peers { laspy, copclib, copc_rs, converter, converter_version, untwine: find_untwine() }
    }

    /// untwine converting `input` (its only memory control is the thread count).
    pub fn untwine_tool(&self, ctx: &Ctx, input: &Path, out_for: &dyn Fn(&str) -> PathBuf) -> Tool {
        let n = ctx.args.threads;
        let command = self.untwine.clone().map(|bin| {
            let (i, o, t) = (input.to_path_buf(), out_for("untwine"), ctx.work.join("tmp"));
            Box::new(move || {
                let mut c = Command::new(&bin);
                c.arg("--files").arg(&i).arg("--output_dir").arg(&o).args(["--threads", &n.to_string(), "--temp_dir"]).arg(&t);
                c
            }) as MakeCommand
        });
        Tool { name: "untwine".into(), threads: format!("{n} (--threads)"), command, is_ours: false, is_limit: false }
    }

    pub fn converters(&self, ctx: &Ctx, input: &Path, out_for: &dyn Fn(&str) -> PathBuf) -> Vec<Tool> {
        let n = ctx.args.threads;
        let exe = ctx.exe.clone();
        let tmp = ctx.work.join("tmp");
        let (i, o) = (input.to_path_buf(), out_for("ours"));
        let mem = ctx.args.memory_limit.clone();
        let t = tmp.clone();
        let ours: MakeCommand = Box::new(move || {
            let mut c = Command::new(&exe);
            c.args(["worker", "convert"]).arg(&i).arg(&o).args(["--threads", &n.to_string(), "--memory-limit", &mem, "--temp-dir"]).arg(&t);
            c
        });
        let mut tools = vec![Tool { name: "ours".into(), threads: format!("{n} (--threads)"), command: Ok(ours), is_ours: true, is_limit: false }];

        // copc-converter takes binary units: give it the same number of bytes
        let mib = ctx.memory_limit_bytes >> 20;
        let conv = self.converter.clone().map(|bin| {
            let (i, o, t) = (input.to_path_buf(), out_for("copc-converter"), tmp.clone());
            Box::new(move || {
                let mut c = Command::new(&bin);
                c.arg(&i).arg(&o).args(["--threads", &n.to_string(), "--memory-limit", &format!("{mib}Mi"), "--progress", "plain", "--temp-dir"]).arg(&t);
                c
            }) as MakeCommand
        });
        tools.push(Tool { name: "copc-converter".into(), threads: format!("{n} (--threads)"), command: conv, is_ours: false, is_limit: false });

        let crs = self.copc_rs.clone().map(|bin| {
            let (i, o) = (input.to_path_buf(), out_for("copc-rs"));
            Box::new(move || {
                let mut c = Command::new(&bin);
                c.arg("convert").arg(&i).arg(&o);
                c
            }) as MakeCommand
        });
        tools.push(Tool { name: "copc-rs".into(), threads: "1 (no thread option)".into(), command: crs, is_ours: false, is_limit: false });
        tools
    }

    /// Readers of a local COPC file. `limit`: add laz-rs alone (1 and N threads).
    pub fn readers(&self, ctx: &Ctx, file: &str, q: &ReadQuery, limit: bool) -> Vec<Tool> {
        let n = ctx.args.threads;
        let mut tools = vec![ours_reader(ctx, file, q)];
        tools.push(laspy_reader(self, n, file, q));
        if !q.xyz {
            let cl = self.copclib.clone().map(|_| {
                let (f, q) = (file.to_string(), q.clone());
                Box::new(move || {
                    let mut c = Command::new("python3");
                    c.arg(script("copclib_read.py")).arg(&f);
                    query_args(&mut c, &q);
                    c
                }) as MakeCommand
            });
            tools.push(Tool { name: "copc-lib".into(), threads: "1 (no thread option)".into(), command: cl, is_ours: false, is_limit: false });
            let crs = self.copc_rs.clone().map(|bin| {
                let (f, q) = (file.to_string(), q.clone());
                Box::new(move || {
                    let mut c = Command::new(&bin);
                    c.arg("read").arg(&f);
                    query_args(&mut c, &q);
                    c
                }) as MakeCommand
            });
            tools.push(Tool { name: "copc-rs".into(), threads: "1 (no thread option)".into(), command: crs, is_ours: false, is_limit: false });
        }
        if limit {
            for t in [1, n] {
                let (exe, f) = (ctx.exe.clone(), file.to_string());
                let cmd: MakeCommand = Box::new(move || {
                    let mut c = Command::new(&exe);
                    c.args(["worker", "lazrs", &f, "--threads", &t.to_string()]);
                    c
                });
                tools.push(Tool {
                    name: format!("laz-rs alone, {t} thread{}", if t == 1 { "" } else { "s" }),
                    threads: format!("{t} (rayon pool)"),
                    command: Ok(cmd),
                    is_ours: false,
                    is_limit: true,
                });
                if n == 1 {
                    break;
                }
            }
        }
        tools
    }

    pub fn http_readers(&self, ctx: &Ctx, url: &str, q: &ReadQuery) -> Vec<Tool> {
        vec![ours_reader(ctx, url, q), laspy_reader(self, ctx.args.threads, url, q)]
    }
}

fn query_args(c: &mut Command, q: &ReadQuery) {
    if let Some(b) = &q.bounds {
        c.args(["--bounds", b]);
    }
    if let Some(r) = &q.resolution {
        c.args(["--resolution", r]);
    }
}

fn ours_reader(ctx: &Ctx, source: &str, q: &ReadQuery) -> Tool {
    let (exe, s, q, n) = (ctx.exe.clone(), source.to_string(), q.clone(), ctx.args.threads);
    let cmd: MakeCommand = Box::new(move || {
        let mut c = Command::new(&exe);
        c.args(["worker", "read", &s, "--threads", &n.to_string()]);
        query_args(&mut c, &q);
        if q.xyz {
            c.arg("--xyz");
        }
        c
    });
    Tool { name: "ours".into(), threads: format!("{n} (ReaderOptions::threads)"), command: Ok(cmd), is_ours: true, is_limit: false }
}

fn laspy_reader(p: &Peers, n: usize, source: &str, q: &ReadQuery) -> Tool {
    let cmd = p.laspy.clone().map(|_| {
        let (s, q) = (source.to_string(), q.clone());
        Box::new(move || {
            let mut c = Command::new("python3");
            c.arg(script("laspy_read.py")).arg(&s);
            query_args(&mut c, &q);
            if q.xyz {
                c.arg("--xyz");
            }
            c
        }) as MakeCommand
    });
    let name = if q.xyz { "laspy (XYZ selection)" } else { "laspy" };
    Tool { name: name.into(), threads: format!("{n} (RAYON_NUM_THREADS)"), command: cmd, is_ours: false, is_limit: false }
}
