//! The one error type of the crate. Every variant says where (file or URL, byte
//! offset or node key) and what was expected, so a CLI line or a C caller gets a
//! message a user can act on.

use std::fmt;

/// A position in a source that an error refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// Nowhere in particular (the source as a whole).
    Source,
    /// A byte offset in the source.
    Offset(u64),
    /// An octree node, with the byte offset of its chunk or entry when known.
    Node { key: [i32; 4], offset: Option<u64> },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Source => Ok(()),
            Location::Offset(o) => write!(f, "at byte {o}: "),
            Location::Node { key, offset } => {
                write!(f, "node {}-{}-{}-{}", key[0], key[1], key[2], key[3])?;
                if let Some(o) = offset {
                    write!(f, " (byte {o})")?;
                }
                f.write_str(": ")
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the LAS/LAZ/COPC format.
    #[error("{source_name}: {at}{message}")]
    Format { source_name: String, at: Location, message: String },

    /// A readable LAS/LAZ file that is not COPC (wrong version, no COPC info VLR): a
    /// caller may show its header and say how to convert it (`copc info` does).
    #[error("{source_name}: {at}not a COPC file: {message}")]
    NotCopc { source_name: String, at: Location, message: String },

    /// A valid file that uses something this library does not handle.
    #[error("{source_name}: {at}unsupported: {message}")]
    Unsupported { source_name: String, at: Location, message: String },

    /// Reading or writing bytes failed.
    #[error("{source_name}: {at}{context}: {error}")]
    Io { source_name: String, at: Location, context: String, error: std::io::Error },

    /// An HTTP request failed for good (after retries).
    #[error("{url}: bytes {range}: {message}")]
    Http { url: String, range: String, message: String },

    /// The caller passed something that cannot work (bad query, option, key).
    #[error("{0}")]
    InvalidArgument(String),

    /// The caller asked the operation to stop (e.g. Ctrl-C); nothing was left behind.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn format(source_name: &str, at: Location, message: impl Into<String>) -> Self {
        Error::Format { source_name: source_name.to_string(), at, message: message.into() }
    }

    pub fn unsupported(source_name: &str, at: Location, message: impl Into<String>) -> Self {
        Error::Unsupported { source_name: source_name.to_string(), at, message: message.into() }
    }

    pub fn io(source_name: &str, at: Location, context: impl Into<String>, error: std::io::Error) -> Self {
        Error::Io { source_name: source_name.to_string(), at, context: context.into(), error }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidArgument(message.into())
    }

    /// The file or URL the error is about, when it names one.
    pub fn source_name(&self) -> Option<&str> {
        match self {
            Error::Format { source_name, .. }
            | Error::NotCopc { source_name, .. }
            | Error::Unsupported { source_name, .. }
            | Error::Io { source_name, .. } => Some(source_name),
            Error::Http { url, .. } => Some(url),
            Error::InvalidArgument(_) | Error::Cancelled(_) => None,
        }
    }

    /// The message without the leading source name (for a CLI that prints it itself).
    pub fn detail(&self) -> String {
        let full = self.to_string();
        match self.source_name() {
            Some(name) => full.strip_prefix(name).and_then(|s| s.strip_prefix(": ")).map(str::to_string).unwrap_or(full),
            None => full,
        }
    }
}
