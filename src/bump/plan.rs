//! What a bump changes: the version files to edit (the base's, or the pins of the selected
//! tenants), each edit computed before anything is written, and the commit message.

use globset::{Glob, GlobSetBuilder};

use super::Request;
use super::edit::{self, Bump, Edit};
use crate::error::{Diagnostic, Result, did_you_mean};
use crate::load::{Loader, Repo, Role};
use crate::names::Digest;
use crate::node::Node;
use crate::origin::SourceFile;
use crate::source::{RepoPath, Source, Worktree};

/// One version file to change.
pub(crate) struct Target {
    pub(crate) path: String,
    /// Relative path from the file to schemas/version.schema.json, for new files.
    schema: &'static str,
}

/// A version file's edit: its path, old text (empty for a new file) and new text.
pub(crate) type FileEdit = (String, String, String);

/// The service to bump is one under `base/`.
pub(crate) fn check_service(repo: &Repo, service: &str) -> Result<()> {
    if repo.services.contains(service) {
        return Ok(());
    }
    let hint = match did_you_mean(service, repo.services.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!(
            "services under base/: {}",
            repo.services
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Err(Diagnostic::new(format!("no service `{service}`"))
        .hint(hint)
        .into())
}

/// A `--sidecar` is one the service's base defines (in any file of `base/<service>/`), so
/// that a typo is named as such, not as a version file without the pin.
pub(crate) fn check_sidecar(
    loader: &Loader<'_>,
    service: &str,
    sidecar: Option<&str>,
) -> Result<()> {
    let Some(name) = sidecar else { return Ok(()) };
    let dir = RepoPath::parse(&format!("base/{service}")).map_err(Diagnostic::new)?;
    let mut names: Vec<String> = Vec::new();
    for (file, kind) in loader.source().list(&dir)? {
        let yaml = file.ends_with(".yaml") || file.ends_with(".yml");
        if kind != crate::source::EntryKind::File || !yaml || file == "version.yaml" {
            continue;
        }
        let Some(node) = loader.load(&dir.join(&file), Role::ServiceLayer)? else {
            continue;
        };
        let sidecars = node.get("sidecars").and_then(Node::as_seq).unwrap_or(&[]);
        names.extend(
            sidecars
                .iter()
                .filter_map(|s| s.get("name").and_then(Node::as_scalar_text))
                .map(str::to_owned),
        );
    }
    if names.iter().any(|n| n == name) {
        return Ok(());
    }
    let hint = match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`?"),
        None if names.is_empty() => format!("base/{service}/ defines no sidecars"),
        None => format!("its sidecars: {}", names.join(", ")),
    };
    Err(
        Diagnostic::new(format!("service `{service}` has no sidecar `{name}`"))
            .hint(hint)
            .into(),
    )
}

/// The edits of the target files that change: a file already at the tag is left out, a
/// missing file is created.
pub(crate) fn edits(source: &Worktree, targets: &[Target], bump: &Bump) -> Result<Vec<FileEdit>> {
    let mut edits = Vec::new();
    for target in targets {
        let path = RepoPath::parse(&target.path).map_err(Diagnostic::new)?;
        let old = match source.read(&path, crate::load::MAX_FILE_BYTES as u64)? {
            Some(bytes) => Some(
                String::from_utf8(bytes)
                    .map_err(|_| Diagnostic::new(format!("{path} is not valid UTF-8")))?,
            ),
            None => None,
        };
        let new = match &old {
            Some(text) => {
                match edit::edit(&SourceFile::new(target.path.as_str(), text.as_str()), bump)? {
                    Edit::Unchanged => continue,
                    Edit::Changed { text, .. } => text,
                }
            }
            None => edit::new_file(target.schema, bump),
        };
        edits.push((target.path.clone(), old.unwrap_or_default(), new));
    }
    Ok(edits)
}

/// `--dry-run`: the edits as one unified diff.
pub(crate) fn unified_diff(edits: &[FileEdit]) -> String {
    let mut out = String::new();
    for (path, old, new) in edits {
        let diff = similar::TextDiff::from_lines(old.as_str(), new.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    out
}

/// The version files to edit: the base's, or the pins of the selected tenants.
pub(crate) fn targets(args: &Request, repo: &Repo) -> Result<Vec<Target>> {
    if args.tenants.is_empty() {
        return Ok(vec![Target {
            path: format!("base/{}/version.yaml", args.service),
            schema: "../../schemas/version.schema.json",
        }]);
    }
    let runs: Vec<&str> = repo
        .tenants
        .iter()
        .filter(|t| t.spec.services.contains(&args.service))
        .map(|t| t.name.as_str())
        .collect();
    let mut globs = GlobSetBuilder::new();
    for g in &args.tenants {
        let glob = Glob::new(g).map_err(|e| Diagnostic::new(format!("invalid glob `{g}`: {e}")))?;
        check_matches(&glob, &runs, &args.service)?;
        globs.add(glob);
    }
    let globs = globs.build().map_err(|e| Diagnostic::new(e.to_string()))?;
    Ok(repo
        .tenants
        .iter()
        .filter(|t| globs.is_match(t.name.as_str()) && t.spec.services.contains(&args.service))
        .map(|t| Target {
            path: format!("tenants/{}/{}/version.yaml", t.name, args.service),
            schema: "../../../schemas/version.schema.json",
        })
        .collect())
}

/// A `--tenant` glob that selects no tenant running the service is a mistake, not a no-op.
fn check_matches(glob: &Glob, runs: &[&str], service: &str) -> Result<()> {
    let matcher = glob.compile_matcher();
    if runs.iter().any(|t| matcher.is_match(t)) {
        return Ok(());
    }
    let hint = match crate::error::did_you_mean(glob.glob(), runs.iter().copied()) {
        Some(t) => format!("did you mean `{t}`?"),
        None if runs.is_empty() => format!("no tenant runs `{service}`"),
        None => format!("the tenants that run `{service}`: {}", runs.join(", ")),
    };
    Err(Diagnostic::new(format!(
        "--tenant {}: no tenant that runs `{service}` matches",
        glob.glob()
    ))
    .hint(hint)
    .into())
}

/// Tenants that pin their own version are not affected by a base bump: say so.
pub(crate) fn report_pins(loader: &Loader<'_>, repo: &Repo, args: &Request) -> Result<()> {
    for tenant in repo
        .tenants
        .iter()
        .filter(|t| t.spec.services.contains(&args.service))
    {
        let path = RepoPath::parse(&format!(
            "tenants/{}/{}/version.yaml",
            tenant.name, args.service
        ))
        .map_err(Diagnostic::new)?;
        let Some(node) = loader.load(&path, Role::Version)? else {
            continue;
        };
        let image = edit::image_map(&node, args.sidecar.as_deref());
        if let Some(pin) = image
            .and_then(|i| i.get("tag"))
            .and_then(Node::as_scalar_text)
        {
            eprintln!("not affected: tenants/{} pins {pin}", tenant.name);
        }
    }
    Ok(())
}

pub(crate) fn message(args: &Request, bump: &Bump) -> String {
    args.message
        .replace("{service}", &args.service)
        .replace("{tag}", bump.tag.as_str())
        .replace("{digest}", bump.digest.as_ref().map_or("", Digest::as_str))
        .replace("{tenants}", &args.tenants.join(","))
}
