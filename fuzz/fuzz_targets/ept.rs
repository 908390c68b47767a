//! (5) EPT: `ept.json`, one hierarchy file, or a tree of hierarchy files (first
//! byte: `copc::fuzzing::ept_mode`).
#![no_main]
mod common;

use copc::VoxelKey;
use copc::ept::json::{load_hierarchy, parse_ept_json, parse_hierarchy_file};
use copc::fuzzing::ept_mode;
use libfuzzer_sys::fuzz_target;
use std::cell::Cell;

fuzz_target!(|data: &[u8]| {
    common::init();
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        ept_mode::EPT_JSON => {
            if let Ok(ept) = parse_ept_json("ept.json", rest) {
                let _ = ept.spacing();
            }
        }
        ept_mode::HIERARCHY_FILE => {
            let _ = parse_hierarchy_file("0-0-0-0.json", rest, VoxelKey::ROOT);
        }
        _ => {
            let files: Vec<&[u8]> = rest.split(|&b| b == 0).collect();
            let asked = Cell::new(0usize);
            let fetch = |key: VoxelKey| {
                let k = asked.replace(asked.get() + 1);
                Ok((format!("{key}.json"), files[k % files.len()].to_vec()))
            };
            if let Ok(h) = load_hierarchy(&fetch) {
                let _ = h.points();
                assert!(h.files <= asked.get());
            }
        }
    }
});
