//! S3 and S3-compatible stores: addressing, region, credentials, SigV4.

use super::{LayeredEnv, Lookup, block_on, context, encode_path, first_var, status_part, truthy, xml_error};
use crate::error::{Error, Result};
use crate::source::HttpSource;
use crate::source::http::{HttpOptions, RequestSigner};
use std::collections::HashMap;
use std::sync::Arc;
use ureq::http::HeaderMap;

/// The region assumed for custom endpoints (MinIO, Ceph, emulators) when none is set.
const DEFAULT_REGION: &str = "us-east-1";

/// Where the credentials were looked for, for the message when none were found.
const LOOKED: &str = "the reader options, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials and \
                      config files (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / \
                      AWS_CONFIG_FILE) for profile";

pub(super) fn open(location: &str, bucket: &str, key: &str, http: &HttpOptions, env: &dyn Lookup) -> Result<HttpSource> {
    let o = &http.store;
    if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
        return Err(Error::InvalidArgument(format!(
            "{location}: an S3 URL names one object: s3://BUCKET/KEY (got bucket '{bucket}', key '{key}')"
        )));
    }
    let name = format!("s3://{bucket}/{key}");
    let anonymous = o.s3_anonymous.unwrap_or_else(|| env.var("AWS_NO_SIGN_REQUEST").is_some_and(|v| truthy(&v)));
    let endpoint = o
        .s3_endpoint
        .clone()
        .or_else(|| first_var(env, &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]))
        .map(|e| e.trim_end_matches('/').to_string());
    // Dotted bucket names cannot be virtual hosts under TLS (the certificate is for
    // *.s3...): the SDKs use path style for them, and so do we.
    let path_style = o.s3_path_style.unwrap_or_else(|| match env.var("AWS_VIRTUAL_HOSTING") {
        Some(v) => !truthy(&v),
        None => endpoint.is_some() || bucket.contains('.'),
    });
    let profile = o.s3_profile.clone().or_else(|| env.var("AWS_PROFILE")).unwrap_or_else(|| "default".into());
    let region_set = o
        .s3_region
        .clone()
        .or_else(|| first_var(env, &["AWS_REGION", "AWS_DEFAULT_REGION"]))
        .or_else(|| profile_region(env, &profile));
    let region = match (&region_set, &endpoint) {
        (Some(r), _) => r.clone(),
        (None, Some(_)) => DEFAULT_REGION.to_string(),
        (None, None) => discover_region(bucket, http).unwrap_or_else(|| DEFAULT_REGION.to_string()),
    };
    let url = object_url(endpoint.as_deref(), &region, bucket, key, path_style)?;
    let signer = S3Signer {
        bucket: bucket.to_string(),
        key: key.to_string(),
        signer: (!anonymous).then(|| credential_signer(http, &region)),
        region,
        region_set: region_set.is_some(),
        profile,
    };
    HttpSource::open_signed(&url, name, http.clone(), Some(Arc::new(signer)))
}

/// Largest AWS config file read for a region (they hold a few profiles).
const CONFIG_FILE_LIMIT: u64 = 1 << 20;

/// The `region` of `profile` in the AWS config file (AWS_CONFIG_FILE, else
/// ~/.aws/config), as the SDKs read it when AWS_REGION is not set.
fn profile_region(env: &dyn Lookup, profile: &str) -> Option<String> {
    let path = env.var("AWS_CONFIG_FILE").or_else(|| env.var("HOME").map(|h| format!("{h}/.aws/config")))?;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, CONFIG_FILE_LIMIT), &mut text).ok()?;
    config_region(&text, profile)
}

/// `region = ...` in section `[default]` (for "default") or `[profile NAME]` of an
/// AWS config file's text.
fn config_region(text: &str, profile: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let section = section.trim();
            let name = section.strip_prefix("profile ").map(str::trim).unwrap_or(section);
            // only the default profile may go without the "profile " prefix
            inside = name == profile && (name == "default" || section != name);
        } else if inside && !line.starts_with(['#', ';']) {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "region" && !v.trim().is_empty() {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// The credential chain (options, environment, shared files, web identity, ECS,
/// instance metadata) and SigV4 for `region`.
fn credential_signer(http: &HttpOptions, region: &str) -> reqsign_core::Signer<reqsign_aws_v4::Credential> {
    let o = &http.store;
    let mut overrides = HashMap::new();
    if let Some(p) = &o.s3_profile {
        overrides.insert("AWS_PROFILE".to_string(), p.clone());
    }
    let env = LayeredEnv { overrides };
    let mut builder = reqsign_aws_v4::DefaultCredentialProvider::builder();
    if let Some(p) = &o.s3_profile {
        builder = builder.with_profile(p.clone());
    }
    let mut provider = builder.build();
    // Keys from the options come first, whatever the environment holds.
    if let (Some(id), Some(secret)) = (&o.s3_access_key_id, &o.s3_secret_access_key) {
        let mut fixed = reqsign_aws_v4::StaticCredentialProvider::new(id, secret);
        if let Some(token) = &o.s3_session_token {
            fixed = fixed.with_session_token(token);
        }
        provider = provider.push_front(fixed);
    }
    reqsign_core::Signer::new(context(env), provider, reqsign_aws_v4::RequestSigner::new("s3", region))
}

/// `https://BUCKET.s3.REGION.amazonaws.com/KEY`, or path style
/// `https://s3.REGION.amazonaws.com/BUCKET/KEY`; with a custom endpoint
/// `ENDPOINT/BUCKET/KEY` (or `SCHEME://BUCKET.HOST/KEY`).
fn object_url(endpoint: Option<&str>, region: &str, bucket: &str, key: &str, path_style: bool) -> Result<String> {
    let key = encode_path(key);
    Ok(match endpoint {
        Some(e) if path_style => format!("{e}/{bucket}/{key}"),
        Some(e) => {
            let (scheme, host) = e.split_once("://").ok_or_else(|| {
                Error::InvalidArgument(format!("S3 endpoint '{e}': expected http://HOST[:PORT] or https://..."))
            })?;
            format!("{scheme}://{bucket}.{host}/{key}")
        }
        None if path_style => format!("https://s3.{region}.amazonaws.com/{bucket}/{key}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
    })
}

/// The bucket's region as AWS tells anyone (`x-amz-bucket-region` on a HEAD of the
/// bucket, whatever the status), when no region is configured.
fn discover_region(bucket: &str, http: &HttpOptions) -> Option<String> {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(http.connect_timeout))
        .timeout_global(Some(http.timeout))
        .max_redirects(0)
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let response = agent.head(&format!("https://{bucket}.s3.amazonaws.com/")).call().ok()?;
    bucket_region(response.headers())
}

fn bucket_region(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amz-bucket-region")?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

struct S3Signer {
    bucket: String,
    key: String,
    region: String,
    /// The region came from the options or the environment (not assumed).
    region_set: bool,
    profile: String,
    /// None: anonymous (unsigned) requests.
    signer: Option<reqsign_core::Signer<reqsign_aws_v4::Credential>>,
}

impl S3Signer {
    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

impl RequestSigner for S3Signer {
    fn sign(&self, request: &mut ureq::http::request::Parts) -> std::result::Result<(), String> {
        let Some(signer) = &self.signer else { return Ok(()) };
        block_on(signer.sign(request, None)).map_err(|e| {
            if e.kind() == reqsign_core::ErrorKind::CredentialInvalid && e.to_string().contains("failed to load") {
                format!(
                    "no AWS credentials found for {}; looked in {LOOKED} '{}' (AWS_PROFILE), web identity \
                     (AWS_WEB_IDENTITY_TOKEN_FILE), ECS (AWS_CONTAINER_CREDENTIALS_*) and EC2 instance \
                     metadata (unless AWS_EC2_METADATA_DISABLED=true). Set one of them, or \
                     AWS_NO_SIGN_REQUEST=YES for a public bucket",
                    self.url(),
                    self.profile
                )
            } else {
                // reqsign's messages name the provider and what failed, never the secret.
                format!("cannot sign the request for {}: {e}", self.url())
            }
        })
    }

    fn explain(&self, status: u16, headers: &HeaderMap, what: &str) -> String {
        let (code, message) = xml_error(what);
        let status_text = status_part(what);
        let detail = match (&code, &message) {
            (Some(c), Some(m)) => format!("{status_text}, {c}: {m}"),
            (Some(c), None) => format!("{status_text}, {c}"),
            _ => status_text.to_string(),
        };
        let (bucket, key) = (&self.bucket, &self.key);
        if let Some(actual) = bucket_region(headers).filter(|r| *r != self.region) {
            let hint = if self.region_set { "set" } else { "assumed" };
            return format!(
                "bucket '{bucket}' is in region {actual}, not {} ({hint}): set AWS_REGION={actual} \
                 (or the s3_region option) ({detail})",
                self.region
            );
        }
        match (status, code.as_deref()) {
            (_, Some("NoSuchKey")) | (404, None) => format!("no such key '{key}' in bucket '{bucket}' ({detail})"),
            (_, Some("NoSuchBucket")) => format!("no such bucket '{bucket}' ({detail})"),
            (_, Some("InvalidAccessKeyId")) => format!(
                "the store does not know the access key id used for {} ({detail}): check AWS_ACCESS_KEY_ID \
                 or profile '{}'",
                self.url(),
                self.profile
            ),
            (_, Some("SignatureDoesNotMatch")) => format!(
                "the secret key does not match the access key id for {} ({detail}): check \
                 AWS_SECRET_ACCESS_KEY or profile '{}'",
                self.url(),
                self.profile
            ),
            (_, Some("AuthorizationHeaderMalformed" | "PermanentRedirect" | "IllegalLocationConstraintException")) => {
                format!("bucket '{bucket}' is not in region {}: set AWS_REGION ({detail})", self.region)
            }
            (403, _) if self.signer.is_none() => format!(
                "access denied to key '{key}' in bucket '{bucket}' without credentials (anonymous): the bucket \
                 is not public; unset AWS_NO_SIGN_REQUEST and give credentials ({detail})"
            ),
            (403, _) => format!(
                "access denied to key '{key}' in bucket '{bucket}' ({detail}): the credentials are valid but \
                 may not read this object (bucket policy, IAM permissions)"
            ),
            _ => format!("{} ({detail})", self.url()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_styles() {
        let url = |e, p| object_url(e, "eu-west-1", "b", "dir/a b.laz", p).unwrap();
        assert_eq!(url(None, false), "https://b.s3.eu-west-1.amazonaws.com/dir/a%20b.laz");
        assert_eq!(url(None, true), "https://s3.eu-west-1.amazonaws.com/b/dir/a%20b.laz");
        assert_eq!(url(Some("http://127.0.0.1:9000"), true), "http://127.0.0.1:9000/b/dir/a%20b.laz");
        assert_eq!(url(Some("http://minio.local:9000"), false), "http://b.minio.local:9000/dir/a%20b.laz");
        assert!(object_url(Some("nohost"), "r", "b", "k", false).is_err());
    }

    #[test]
    fn region_of_a_profile_in_the_config_file() {
        let text = "[default]\nregion = us-west-2\n\n[profile work]\n# region = no\noutput = json\nregion=eu-west-3\n\n[other]\nregion = ap-south-1\n";
        assert_eq!(config_region(text, "default").as_deref(), Some("us-west-2"));
        assert_eq!(config_region(text, "work").as_deref(), Some("eu-west-3"));
        // "[other]" without "profile " is not a profile of the config file
        assert_eq!(config_region(text, "other"), None);
        assert_eq!(config_region(text, "missing"), None);
        assert_eq!(config_region("[profile  x ]\nregion = r1", "x").as_deref(), Some("r1"));
    }

    fn signer(anonymous: bool) -> S3Signer {
        S3Signer {
            bucket: "bkt".into(),
            key: "k.laz".into(),
            region: "us-east-1".into(),
            region_set: false,
            profile: "default".into(),
            signer: (!anonymous).then(|| credential_signer(&HttpOptions::default(), "us-east-1")),
        }
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let s = signer(false);
        let mut headers = HeaderMap::new();
        let nokey = s.explain(404, &headers, "status 404 Not Found (<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>)");
        assert!(nokey.contains("no such key 'k.laz' in bucket 'bkt'"), "{nokey}");
        let nobucket = s.explain(404, &headers, "status 404 Not Found (<Code>NoSuchBucket</Code>)");
        assert!(nobucket.contains("no such bucket 'bkt'"), "{nobucket}");
        let denied = s.explain(403, &headers, "status 403 Forbidden (<Code>AccessDenied</Code>)");
        assert!(denied.contains("access denied to key 'k.laz' in bucket 'bkt'"), "{denied}");
        let anon = signer(true).explain(403, &headers, "status 403 Forbidden");
        assert!(anon.contains("not public"), "{anon}");
        headers.insert("x-amz-bucket-region", "ap-south-1".parse().unwrap());
        let region = s.explain(301, &headers, "status 301 Moved Permanently (<Code>PermanentRedirect</Code>)");
        assert!(region.contains("is in region ap-south-1, not us-east-1") && region.contains("AWS_REGION=ap-south-1"), "{region}");
    }
}
