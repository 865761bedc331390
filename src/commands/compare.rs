//! What `diff` and `affected` share: their range arguments, turned into the comparison
//! [`crate::compare`] makes.

use super::find_root;
use crate::cli::{Global, RangeArgs};
use crate::compare::{Range, compare_range};
use crate::error::Result;
use crate::pipeline::Selection;
use crate::secrets::Keys;

pub(super) use crate::compare::Comparison;

/// Compares the selection between the two sides `args` name.
pub(super) fn run(global: &Global, args: &RangeArgs, keys: &Keys) -> Result<Comparison> {
    let range = Range {
        from: args.from.as_deref(),
        to: args.to.as_deref(),
        from_dir: args.from_dir.as_deref(),
        to_dir: args.to_dir.as_deref(),
    };
    let root = if range.needs_root() {
        find_root(global.repo.as_deref())?
    } else {
        std::path::PathBuf::new()
    };
    let selection = Selection::new(
        &args.filter.tenants,
        &args.filter.services,
        args.filter.environment.clone(),
    )?;
    compare_range(&root, &range, &selection, keys)
}
