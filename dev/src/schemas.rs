//! `stencil-dev schemas`: writes the JSON Schema of every input kind, generated from
//! `stencil::model`, as `<kind>.schema.json` (pretty JSON, final newline). `schemas/` holds
//! the committed copy, which a test compares with [`files`].

use std::path::Path;

use stencil::error::{Diagnostic, Error};

/// The text of each schema file, by file name, in the model's order.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    stencil::model::schemas()
        .into_iter()
        .map(|(stem, schema)| {
            let mut text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Diagnostic::new(format!("cannot serialize schema {stem}: {e}")))?;
            text.push('\n');
            Ok((format!("{stem}.schema.json"), text))
        })
        .collect()
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
