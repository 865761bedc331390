//! `stencil-dev schemas`: writes the JSON Schema of every input kind, generated from
//! `stencil::model`, as `<kind>.schema.json` (pretty JSON, final newline). `schemas/` holds
//! the committed copy, which a test compares with [`files`].

use std::path::Path;

use stencil::error::Error;

/// The text of each schema file, by file name, in the model's order.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    Ok(stencil::model::schema_files())
}

/// Writes every schema file into `out` (created if missing), naming each on stderr.
pub fn run(out: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::io(format_args!("cannot create {}", out.display()), &e))?;
    for (name, text) in files()? {
        let path = out.join(&name);
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pretty_json_file_per_input_kind() {
        let files = files().unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        for kind in ["stencil", "tenant", "service", "version", "env"] {
            let name = format!("{kind}.schema.json");
            assert!(names.contains(&name.as_str()), "{names:?}");
        }
        for (name, text) in &files {
            assert!(text.ends_with("}\n"), "{name}");
            serde_json::from_str::<serde_json::Value>(text).unwrap();
        }
    }

    #[test]
    fn run_writes_the_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("schemas");
        run(&out).unwrap();
        for (name, text) in files().unwrap() {
            assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), text);
        }
    }
}
