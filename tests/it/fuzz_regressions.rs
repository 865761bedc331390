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

/// A tenant's copy of a real encrypted file, edited line by line: a line replaced by
/// arbitrary text (hostile characters included), removed, or duplicated. Whatever the edit,
/// the SOPS entry point (the loader's pre-scan and parser, sealing, decryption) returns
/// without a panic. The class the seeds are members of, in the ordinary test run.
mod mutated_sops_files {
    use proptest::prelude::*;

    const SEED: &str = include_str!("../../tenants/momcorp/apiserver/secrets.enc.yaml");

    fn edited(line: usize, edit: u8, text: &str) -> String {
        let mut lines: Vec<String> = SEED.lines().map(str::to_owned).collect();
        let at = line % lines.len();
        match edit % 3 {
            0 => lines[at] = text.to_owned(),
            1 => {
                lines.remove(at);
            }
            _ => lines.insert(at, lines[at].clone()),
        }
        lines.join("\n") + "\n"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn never_panic(
            line in any::<usize>(),
            edit in any::<u8>(),
            text in prop_oneof![
                "\\PC{0,40}",
                "[ a-z:\\-\\[\\]{}&*!|>'\"#%@`,\u{85}\u{2028}\u{feff}\t\r]{0,30}",
            ],
        ) {
            let input = edited(line, edit, &text);
            let _ = stencil_dev::fuzzing::sops(input.as_bytes());
        }
    }

    #[test]
    fn the_unedited_seed_opens() {
        assert!(stencil_dev::fuzzing::sops(SEED.as_bytes()));
    }
}
