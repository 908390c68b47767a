//! Subcommands of the `copc` tool. Exit status: 0 success, 1 error (one line
//! `copc: SOURCE: what went wrong` on stderr), 2 bad usage (clap).

mod dataset_query;
mod demo;
mod index;
mod info;
mod progress;
mod query;
mod sample;
mod serve;
mod translate;
mod validate;

use clap::{Parser, Subcommand};

/// `copc --version`: ours, and the LAZ/LAS crates that decide which files decode (build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (laz ", env!("COPC_LAZ_VERSION"), ", las ", env!("COPC_LAS_VERSION"), ")");

#[derive(Parser)]
#[command(
    name = "copc",
    version = VERSION,
    about = "Read, write, check and query COPC (Cloud Optimized Point Cloud) files",
    after_help = "Start with `copc demo`; `copc SUBCOMMAND --help` shows each one's options and examples."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Info(info::InfoArgs),
    Index(index::IndexArgs),
    Query(query::QueryArgs),
    Validate(validate::ValidateArgs),
    Translate(translate::TranslateArgs),
    Sample(sample::SampleArgs),
    Demo(demo::DemoArgs),
    Serve(serve::ServeArgs),
}

/// Options shared by every subcommand that reads a source.
#[derive(clap::Args, Clone, Default)]
pub struct SourceArgs {
    /// HTTP header for remote sources, 'Name: value' (repeatable), e.g. --header 'Authorization: Bearer TOKEN'.
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// Concurrent HTTP requests for remote sources.
    #[arg(long, default_value_t = 10)]
    pub requests: usize,
    /// Threads for decoding (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// S3-compatible endpoint for s3:// sources, e.g. http://127.0.0.1:9000 (path-style; overrides AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// Region of s3:// buckets (overrides AWS_REGION and the profile's region in ~/.aws/config; default: asked of the bucket).
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// Profile of ~/.aws/credentials and ~/.aws/config for s3:// sources (overrides AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub s3_profile: Option<String>,
    /// Unsigned requests to public buckets and containers (as AWS_NO_SIGN_REQUEST=YES, GS_NO_SIGN_REQUEST=YES). Keys and tokens are read from the environment only, never from the command line.
    #[arg(long)]
    pub no_sign_request: bool,
    /// Azure storage account for az:// sources (overrides AZURE_STORAGE_ACCOUNT_NAME).
    #[arg(long, value_name = "NAME")]
    pub azure_account: Option<String>,
    /// Azure blob endpoint, e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite.
    #[arg(long, value_name = "URL")]
    pub azure_endpoint: Option<String>,
    /// Google credentials file (service-account or authorized-user JSON) for gs:// sources (overrides GOOGLE_APPLICATION_CREDENTIALS).
    #[arg(long, value_name = "FILE")]
    pub gs_credentials: Option<String>,
    /// Google Cloud Storage endpoint for gs:// sources, e.g. http://127.0.0.1:9023 for an emulator (overrides STORAGE_EMULATOR_HOST, CPL_GS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    pub gs_endpoint: Option<String>,
}

impl SourceArgs {
    pub fn reader_options(&self, source: &str) -> Result<copc::ReaderOptions, Failure> {
        let mut opts = copc::ReaderOptions { threads: self.threads, ..Default::default() };
        for h in &self.headers {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| Failure::msg(source, format!("--header '{h}': expected 'Name: value'")))?;
            opts.http.headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        opts.http.concurrency = self.requests.max(1);
        let store = &mut opts.http.store;
        store.s3_endpoint = self.s3_endpoint.clone();
        store.s3_region = self.s3_region.clone();
        store.s3_profile = self.s3_profile.clone();
        store.azure_account = self.azure_account.clone();
        store.azure_endpoint = self.azure_endpoint.clone();
        store.gs_credentials = self.gs_credentials.clone();
        store.gs_endpoint = self.gs_endpoint.clone();
        if self.no_sign_request {
            store.s3_anonymous = Some(true);
            store.azure_anonymous = Some(true);
            store.gs_anonymous = Some(true);
        }
        Ok(opts)
    }

    pub fn open(&self, source: &str) -> Result<copc::Reader, Failure> {
        copc::Reader::open_with(source, &self.reader_options(source)?).map_err(|e| Failure::new(source, e))
    }

    pub fn open_source(&self, source: &str) -> Result<std::sync::Arc<dyn copc::ByteSource>, Failure> {
        copc::open_source(source, &self.reader_options(source)?.http).map_err(|e| Failure::new(source, e))
    }
}

/// An error for the user: the source it is about and what went wrong.
pub struct Failure {
    pub source: String,
    pub message: String,
}

impl Failure {
    pub fn new(source: &str, err: copc::Error) -> Failure {
        Failure { source: source.to_string(), message: err.detail() }
    }

    /// An error that may be about another file than `source` (a tile of the dataset
    /// `source`): named by the file the error names, else by `source`.
    pub fn about(source: &str, err: copc::Error) -> Failure {
        Failure { source: err.source_name().unwrap_or(source).to_string(), message: err.detail() }
    }

    pub fn msg(source: &str, message: impl Into<String>) -> Failure {
        Failure { source: source.to_string(), message: message.into() }
    }
}

pub fn main() -> i32 {
    // Library panics are turned into errors where they can happen (LAZ decode);
    // keep their default report off the terminal unless asked for.
    if std::env::var_os("COPC_DEBUG").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    let result = std::panic::catch_unwind(|| match Cli::parse().command {
        Command::Info(a) => info::run(a),
        Command::Index(a) => index::run(a),
        Command::Query(a) => query::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Translate(a) => translate::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
    });
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(f)) => {
            eprintln!("copc: {}: {}", f.source, f.message);
            1
        }
        Err(p) => {
            let what = p.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            // stdout closed by its reader (`copc info x | head`): stop quietly, as Unix tools do
            if what.contains("failed printing to stdout") && what.contains("Broken pipe") {
                return 0;
            }
            eprintln!("copc: internal error: {what} (please report this)");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
