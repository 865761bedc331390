//! The checked-in JSON Schemas must be exactly what the model generates, and every example
//! input file must point its editor at the right one.

use std::path::Path;

#[test]
fn checked_in_schemas_match_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let files = stencil_dev::schemas::files().expect("schemas");
    let mut drifted = Vec::new();
    for (name, text) in &files {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if on_disk != *text {
            drifted.push(name.clone());
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("schemas/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut generated: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    generated.sort();
    assert_eq!(
        on_disk, generated,
        "schemas/ holds files the code does not generate"
    );
    assert!(
        drifted.is_empty(),
        "schemas/ drifted from the code: {drifted:?}; run `cargo run -p stencil-dev -- schemas --out schemas`"
    );
}

#[test]
fn example_files_reference_their_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut stack = vec![root.join("base"), root.join("tenants")];
    let mut files = vec![root.join("stencil.yaml")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && !path.ends_with("secrets.enc.yaml")
            {
                files.push(path);
            }
        }
    }
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let kind = match name {
            "stencil.yaml" => "stencil",
            "tenant.yaml" => "tenant",
            "version.yaml" => "version",
            "env.yaml" => "env",
            _ => "service",
        };
        let text = std::fs::read_to_string(&path).expect("read");
        let first = text.lines().next().unwrap_or_default();
        let reference = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{} does not start with a yaml-language-server line",
                    path.display()
                )
            });
        assert!(
            reference.ends_with(&format!("schemas/{kind}.schema.json")),
            "{}: {reference}",
            path.display()
        );
        let target = path.parent().expect("parent").join(reference);
        assert!(
            target.is_file(),
            "{}: {} does not exist",
            path.display(),
            target.display()
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} example files checked");
}
