//! Replays the fuzzing seeds (`fuzz/seeds/<target>/`) and every input fuzzing found to crash
//! (`fuzz/regressions/<target>/`, committed when found) through the same entry points the
//! fuzz targets use: each must return without a panic.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for folder in ["seeds", "regressions"] {
        let dir = root.join(folder).join(target);
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n == ".keep") {
                continue;
            }
            out.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    out.sort();
    out
}

// One test, not two: `fuzzing::sops` hands its key to rops through the environment, which
// must not happen while another test thread of this binary runs.
#[test]
fn fuzz_inputs_never_panic() {
    replay("render", 5, stencil_dev::fuzzing::render);
    replay("sops", 4, stencil_dev::fuzzing::sops);
}

/// Runs every input of `target` (at least `seeds` of them) through `entry`: none may panic,
/// and at least two must go all the way through (the harness really renders or decrypts).
fn replay(target: &str, seeds: usize, entry: fn(&[u8]) -> bool) {
    let inputs = inputs(target);
    assert!(inputs.len() >= seeds, "the {target} seeds are missing");
    let mut succeeded = 0;
    for (name, bytes) in inputs {
        match std::panic::catch_unwind(|| entry(&bytes)) {
            Ok(true) => succeeded += 1,
            Ok(false) => {}
            Err(_) => panic!("{name} panicked"),
        }
    }
    assert!(
        succeeded >= 2,
        "only {succeeded} {target} inputs went through"
    );
}
