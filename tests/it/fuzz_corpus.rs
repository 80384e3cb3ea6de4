//! Replays the committed fuzz corpus (`tests/fuzz/corpus/<target>/`) through
//! the fuzz targets' own entry points on stable: CI has no nightly and
//! cannot run `cargo fuzz`, but every input that once crashed or widened
//! coverage must still go through every parser without a panic.

use std::path::Path;

#[path = "../fuzz/src/lib.rs"]
mod targets;

#[test]
fn the_committed_fuzz_corpus_goes_through_every_parser_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no corpus", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let run = std::panic::catch_unwind(|| target(&data));
            assert!(run.is_ok(), "{name}: {} panics", file.display());
        }
    }
}
