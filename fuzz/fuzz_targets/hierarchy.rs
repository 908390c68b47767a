//! (4) Hierarchy pages: the root page at byte 0, child pages anywhere in the input,
//! loaded the way the reader loads them.
#![no_main]
mod common;

use copc::fuzzing::{PagesInput, Params, load_hierarchy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    common::init();
    let mut p = Params(data);
    let input = PagesInput::decode(&mut p);
    let file = p.rest();
    let Ok(loaded) = load_hierarchy(input, file) else { return };
    assert!(loaded.pages >= 1);
    for e in &loaded.entries {
        assert!(e.key.is_valid(), "{e:?}");
        if e.has_data() {
            assert!(e.byte_size > 0 && e.offset + e.byte_size as u64 <= file.len() as u64, "{e:?}");
        } else {
            assert_eq!(e.point_count, 0, "{e:?}");
        }
    }
});
