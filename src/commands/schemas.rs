//! `stencil schemas`: writes the JSON Schema of every input kind, generated from the model.

use std::process::ExitCode;

use super::Outcome;
use crate::cli::SchemasArgs;
use crate::error::{Diagnostic, Error};
use crate::model;

/// The text of each schema file, by file name.
pub fn files() -> Result<Vec<(String, String)>, Error> {
    model::schemas()
        .into_iter()
        .map(|(stem, schema)| {
            let mut text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Diagnostic::new(format!("cannot serialize schema {stem}: {e}")))?;
            text.push('\n');
            Ok((format!("{stem}.schema.json"), text))
        })
        .collect()
}

pub fn run(args: &SchemasArgs) -> Outcome {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Error::io(format_args!("cannot create {}", args.out.display()), &e))?;
    for (name, text) in files()? {
        let path = args.out.join(&name);
        std::fs::write(&path, text)
            .map_err(|e| Error::io(format_args!("cannot write {}", path.display()), &e))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
