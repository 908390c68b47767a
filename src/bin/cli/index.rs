//! `copc index`: a Virtual Point Cloud (`.vpc`, STAC ItemCollection) of many files.

use super::Failure;
use copc::dataset::{self, vpc};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Build a VPC from files, folders, globs and URLs, reading only headers and VLRs.
#[derive(clap::Args)]
#[command(
    about = "Build a Virtual Point Cloud (.vpc, STAC ItemCollection) of many COPC files",
    after_help = "Examples:\n  copc index tiles/ -o tiles.vpc\n  copc index 'tiles/*.copc.laz' https://example.com/t1.copc.laz -o all.vpc --stats"
)]
pub struct IndexArgs {
    /// Files, folders (their .laz/.las files), globs ('tiles/*.copc.laz', * and ? in the file name) and http(s)/s3/az/gs URLs of single files.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// The VPC to write (written only when every input was read).
    #[arg(short = 'o', long = "output", value_name = "OUT.vpc")]
    output: String,
    /// Descend into sub-folders of folder inputs.
    #[arg(long)]
    recursive: bool,
    /// Also read each file's whole hierarchy and write its data node count (copc:data_nodes).
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    src: super::SourceArgs,
}

fn is_point_file(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    n.ends_with(".laz") || n.ends_with(".las")
}

fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                walk(&p, recursive, out)?;
            }
        } else if is_point_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// `*` and `?` in one file name.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pat[1..], s) || (!s.is_empty() && glob_match(pat, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pat[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&pat[1..], &s[1..]),
        _ => false,
    }
}

fn expand(input: &str, recursive: bool) -> Result<Vec<String>, Failure> {
    if input.contains("://") {
        if input.ends_with('/') {
            return Err(Failure::msg(input, "listing a URL prefix is not supported yet: name the files"));
        }
        return Ok(vec![input.to_string()]);
    }
    let p = Path::new(input);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.contains('*') || name.contains('?') {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| Failure::msg(input, format!("cannot list {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|q| q.is_file() && q.file_name().is_some_and(|n| glob_match(name.as_bytes(), n.to_string_lossy().as_bytes())))
            .map(|q| q.to_string_lossy().into_owned())
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(Failure::msg(input, "no file matches"));
        }
        return Ok(v);
    }
    if p.is_dir() {
        let mut v = Vec::new();
        walk(p, recursive, &mut v).map_err(|e| Failure::msg(input, format!("cannot list: {e}")))?;
        return Ok(v.into_iter().map(|q| q.to_string_lossy().into_owned()).collect());
    }
    Ok(vec![input.to_string()])
}

pub fn run(a: IndexArgs) -> Result<(), Failure> {
    if !a.output.to_ascii_lowercase().ends_with(".vpc") && !a.output.to_ascii_lowercase().ends_with(".json") {
        return Err(Failure::msg(&a.output, "-o: the name must end in .vpc (or .json)"));
    }
    let mut files = Vec::new();
    for i in &a.inputs {
        files.extend(expand(i, a.recursive)?);
    }
    if files.is_empty() {
        return Err(Failure::msg(&a.inputs[0], "no .laz/.las file found"));
    }
    let opts = a.src.reader_options(&a.inputs[0])?;
    // many files at once: header reads are latency-bound, so more than the cores
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.src.requests.clamp(1, 64)).build().map_err(|e| Failure::msg("index", e.to_string()))?;
    let items: Vec<Result<vpc::Item, Failure>> =
        pool.install(|| files.par_iter().map(|f| dataset::scan(f, &opts, a.stats).map_err(|e| Failure::new(f, e))).collect());
    let items = items.into_iter().collect::<Result<Vec<_>, _>>()?;
    let out = Path::new(&a.output);
    let datetime = "1970-01-01T00:00:00Z".to_string();
    let rows: Vec<_> = items.iter().map(|it| (it.clone(), vpc::relative_href(out, &it.href), datetime.clone())).collect();
    let text = serde_json::to_string_pretty(&vpc::collection_json(&rows)).unwrap_or_default();
    let f = copc::writer::temp::OutputFile::create(out).map_err(|e| Failure::msg(&a.output, e.detail()))?;
    {
        use std::io::Write;
        let mut h = f.handle().map_err(|e| Failure::msg(&a.output, e.detail()))?;
        h.write_all(text.as_bytes()).and_then(|_| h.write_all(b"\n")).map_err(|e| Failure::msg(&a.output, format!("cannot write: {e}")))?;
    }
    f.commit().map_err(|e| Failure::msg(&a.output, e.detail()))?;
    let plain = items.iter().filter(|i| i.is_plain_las()).count();
    let points: u64 = items.iter().map(|i| i.count).sum();
    eprintln!("{}: {} files, {points} points{}", a.output, items.len(), if plain > 0 { format!(" ({plain} not COPC: run `copc translate` on them)") } else { String::new() });
    Ok(())
}
