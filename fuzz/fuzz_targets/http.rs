//! (6) HTTP answers: status, Content-Range, Content-Length and body (in pieces,
//! maybe cut by a connection error) for the open, HEAD and fetch requests. What is
//! accepted must be exactly what was asked for.
#![no_main]
mod common;

use copc::fuzzing::{Attempt, HttpInput, parse_content_range};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::init();
    let input = HttpInput::decode(data);
    if let Some(cr) = parse_content_range(&input.content_range) {
        let range = cr.range.map_or("*".to_string(), |(a, b)| format!("{a}-{b}"));
        let total = cr.total.map_or("*".to_string(), |t| t.to_string());
        assert_eq!(parse_content_range(&format!("bytes {range}/{total}")), Some(cr));
    }
    let mut answer = input.answer();
    match input.op {
        0 => {
            let want = input.want as u64 + 1;
            if let Attempt::Done((head, total)) = answer.open(want, &|_| {}) {
                assert!(head.len() as u64 <= want, "open kept {} of {want} bytes", head.len());
                if let Some(total) = total {
                    assert!(head.len() as u64 <= total, "{} bytes of a {total}-byte object", head.len());
                }
            }
        }
        1 => {
            let _ = answer.head();
        }
        _ => {
            let start = input.start as u64;
            let range = start..start + input.len as u64 + 1;
            let len = (input.object as u64).max(range.end);
            if let Attempt::Done(bytes) = answer.fetch(&range, len, &|_| {}) {
                assert_eq!(bytes.len() as u64, range.end - range.start);
                if input.status == 200 {
                    assert_eq!(&bytes[..], &input.body[start as usize..range.end as usize]);
                }
            }
        }
    }
});
