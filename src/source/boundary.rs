//! The filesystem side of the tenant boundary: how a repository path is resolved through
//! symlinks, the same way for every [`Source`](super::Source), and where it may lead.
//!
//! A path belongs to a zone, given by where it is (not where it leads):
//! - `tenants/<t>/**` is tenant `t`'s: every symlink on its way must sit strictly inside
//!   `tenants/<t>/` and the path must end there. The tenant folder itself (and `tenants/`)
//!   is a real folder. Another tenant's files, `base/` and platform files are out of reach
//!   (a tenant builds on `base/` with `extends:`, which the platform's rules check).
//! - `base/**` is the platform's shared layers: its symlinks stay inside `base/`, so that a
//!   base file never reads a tenant's data nor a platform file that is no stencil input.
//! - anything else (`stencil.yaml`, the `tenants` and `base` folders themselves) may not be
//!   read from, or through, a tenant's folder.
//!
//! Resolution is component by component, like the kernel's: `..` after a symlink goes to the
//! real parent. Absolute targets are refused (as Argo CD refuses them: they mean something
//! else on every checkout); a target leaving the repository root is refused. Hard links
//! cannot be told from the file they link to (and git does not store them): they are out of
//! scope, and a checkout made by git never contains one.

use crate::error::{Diagnostic, Error, Result};

/// The rule symlink violations are reported under (see `stencil policy list`).
pub const RULE: &str = crate::model::Rule::SymlinkBoundary.name();

/// Most symlinks followed while resolving one path (Linux's limit is 40).
const MAX_SYMLINK_HOPS: usize = 32;

/// What a repository-relative path is, without following it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Missing,
    File,
    Dir,
    /// A symlink and its target, as stored.
    Symlink(String),
}

/// Looks up paths without following symlinks; the resolver does the following.
pub trait Links {
    /// `path` is repository-relative, `/`-separated, free of symlinks (`""` is the root).
    fn lookup(&self, path: &str) -> Result<Link>;
    /// Whether an absolute symlink target names a place inside the repository (never, in a
    /// git tree, where absolute paths mean nothing).
    fn inside(&self, target: &str) -> bool;
    /// Appended to the path in messages, e.g. ` at abc1234 (HEAD~1)`.
    fn at(&self) -> String;
}

/// Where a path belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Zone {
    Tenant(String),
    Base,
    Platform,
}

impl Zone {
    fn of(path: &str) -> Zone {
        let mut parts = path.split('/');
        match (parts.next(), parts.next()) {
            (Some("tenants"), Some(tenant)) => Zone::Tenant(tenant.to_owned()),
            (Some("base"), Some(_)) => Zone::Base,
            _ => Zone::Platform,
        }
    }

    /// Whether the real path `real` is inside the zone; `strict` leaves the zone's folder
    /// itself out (a symlink may sit in a tenant's folder, not be it).
    fn holds(&self, real: &str, strict: bool) -> bool {
        let root = match self {
            Zone::Tenant(t) => format!("tenants/{t}"),
            Zone::Base => "base".to_owned(),
            // Case-insensitive: on a case-insensitive checkout `Tenants/x` is `tenants/x`.
            Zone::Platform => {
                let lower = real.to_ascii_lowercase();
                return if lower == "tenants" {
                    !strict
                } else {
                    !lower.starts_with("tenants/")
                };
            }
        };
        (!strict && real == root)
            || real
                .strip_prefix(root.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    fn describe(&self) -> String {
        match self {
            Zone::Tenant(t) => format!("tenants/{t}/"),
            Zone::Base => "base/".to_owned(),
            Zone::Platform => "the platform's files (outside tenants/)".to_owned(),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Zone::Tenant(_) => {
                "a tenant's symlinks must stay inside its own folder, which must be a real folder; to build on shared values use `extends:` with a file under base/, and keep secrets in the service's own secrets.enc.yaml"
            }
            Zone::Base => {
                "symlinks under base/ must stay inside base/: base/ may not read a tenant's files, and only files under base/ are shared layers"
            }
            Zone::Platform => {
                "platform files (stencil.yaml, the tenants/ and base/ folders) may not be read from or through a tenant's folder"
            }
        }
    }
}

/// Resolves `path` through symlinks within its zone: the real path and what is there, or
/// `None` when nothing is there (a dangling symlink is an error).
pub fn resolve(links: &dyn Links, path: &str) -> Result<Option<(String, Link)>> {
    let mut walk = Walk::new(links, path);
    let mut found = Link::Dir; // the root
    while let Some((part, target_end)) = walk.pending.pop() {
        if !walk.enter(part)? {
            continue;
        }
        match walk.visit(target_end)? {
            Visit::Next => {}
            Visit::Found(link) => found = link,
            Visit::Nothing => return Ok(None),
        }
    }
    let real = walk.done.join("/");
    walk.check_reached(&real)?;
    Ok(Some((real, found)))
}

/// The state of one resolution, component by component.
struct Walk<'a> {
    links: &'a dyn Links,
    path: &'a str,
    zone: Zone,
    /// Components still to walk, last first; `true` marks the last component of a symlink
    /// target, which must exist.
    pending: Vec<(String, bool)>,
    /// The real path walked so far.
    done: Vec<String>,
    hops: usize,
    /// The last symlink followed: where it is and its target.
    last_link: Option<(String, String)>,
}

/// What one component of a walk is.
enum Visit {
    /// A symlink, followed: walk on.
    Next,
    /// A real file or folder.
    Found(Link),
    /// Nothing: the path does not exist.
    Nothing,
}

impl<'a> Walk<'a> {
    fn new(links: &'a dyn Links, path: &'a str) -> Self {
        Walk {
            links,
            path,
            zone: Zone::of(path),
            pending: path
                .split('/')
                .rev()
                .map(|p| (p.to_owned(), false))
                .collect(),
            done: Vec::new(),
            hops: 0,
            last_link: None,
        }
    }

    /// Takes one component: `Ok(true)` when it names something to look up, `Ok(false)` for
    /// `.`, an empty component or `..` (the real parent; never above the root).
    fn enter(&mut self, part: String) -> Result<bool> {
        match part.as_str() {
            "" | "." => Ok(false),
            ".." => match self.done.pop() {
                Some(_) => Ok(false),
                None => Err(escape(self.links, self.path, self.last_link.as_ref())),
            },
            _ => {
                self.done.push(part);
                Ok(true)
            }
        }
    }

    /// Looks up the path walked so far.
    fn visit(&mut self, target_end: bool) -> Result<Visit> {
        let current = self.done.join("/");
        let link = self.links.lookup(&current)?;
        if link == Link::Missing {
            // Nothing here, but a path that left its zone does not even probe another zone.
            self.check_reached(&current)?;
        }
        match link {
            Link::Missing if target_end => Err(self.dangling()),
            Link::Missing => Ok(Visit::Nothing),
            Link::Symlink(target) => {
                self.follow(current, target)?;
                Ok(Visit::Next)
            }
            Link::File if self.pending.iter().any(|(p, _)| !p.is_empty() && p != ".") => {
                // A file used as a folder: nothing there.
                self.check_reached(&current)?;
                Ok(Visit::Nothing)
            }
            link @ (Link::File | Link::Dir) => Ok(Visit::Found(link)),
        }
    }

    /// After a symlink, the place reached must be inside the path's zone.
    fn check_reached(&self, reached: &str) -> Result<()> {
        if self.last_link.is_some() && !self.zone.holds(reached, false) {
            let (links, path, zone) = (self.links, self.path, &self.zone);
            return Err(violation(
                links,
                path,
                zone,
                reached,
                self.last_link.as_ref(),
            ));
        }
        Ok(())
    }

    fn dangling(&self) -> Error {
        Diagnostic::new(format!(
            "{}{} is a dangling symlink",
            self.path,
            self.links.at()
        ))
        .note(link_note(self.last_link.as_ref()))
        .hint("remove the symlink; use `extends:` to share values between files")
        .into()
    }

    /// Follows the symlink at `current` (the last component walked): it must sit inside the
    /// zone (strictly, but for platform files), within the hop limit, with a relative target,
    /// whose components are walked next.
    fn follow(&mut self, current: String, target: String) -> Result<()> {
        let (links, path) = (self.links, self.path);
        self.hops += 1;
        if self.hops > MAX_SYMLINK_HOPS {
            return Err(Diagnostic::new(format!(
                "{path}{}: too many levels of symlinks",
                links.at()
            ))
            .hint("remove the symlink loop; use `extends:` to share values")
            .into());
        }
        if !self
            .zone
            .holds(&current, !matches!(self.zone, Zone::Platform))
        {
            let link = (current.clone(), target);
            return Err(violation(links, path, &self.zone, &current, Some(&link)));
        }
        self.done.pop();
        if target.starts_with('/') {
            return Err(absolute_target(links, path, current, target));
        }
        let mut parts: Vec<(String, bool)> =
            target.split('/').map(|p| (p.to_owned(), false)).collect();
        if let Some(last) = parts
            .iter_mut()
            .rev()
            .find(|(p, _)| !p.is_empty() && p != "." && p != "..")
        {
            last.1 = true;
        }
        self.pending.extend(parts.into_iter().rev());
        self.last_link = Some((current, target));
        Ok(())
    }
}

/// An absolute symlink target: an escape when it leaves the repository, else refused all the
/// same (it means something else on every checkout).
fn absolute_target(links: &dyn Links, path: &str, current: String, target: String) -> Error {
    if !links.inside(&target) {
        return escape(links, path, Some(&(current, target)));
    }
    Diagnostic::new(format!(
        "{path}{} is read through the absolute symlink {current} -> {target}",
        links.at()
    ))
    .rule(RULE)
    .hint("make the symlink relative: an absolute target means something else on every checkout (Argo CD refuses absolute symlinks too)")
    .into()
}

fn link_note(link: Option<&(String, String)>) -> String {
    match link {
        Some((at, target)) => format!("symlink: {at} -> {target}"),
        None => "no symlink".to_owned(),
    }
}

fn violation(
    links: &dyn Links,
    path: &str,
    zone: &Zone,
    reached: &str,
    link: Option<&(String, String)>,
) -> Error {
    let message = match link {
        Some((at, _)) if at == path => format!(
            "{path}{} is a symlink leading to {reached}, outside {}",
            links.at(),
            zone.describe()
        ),
        _ => format!(
            "{path}{} is read through a symlink leading to {reached}, outside {}",
            links.at(),
            zone.describe()
        ),
    };
    Diagnostic::new(message)
        .rule(RULE)
        .note(link_note(link))
        .hint(zone.hint())
        .into()
}

fn escape(links: &dyn Links, path: &str, link: Option<&(String, String)>) -> Error {
    let target = link.map_or("", |(_, t)| t.as_str());
    Diagnostic::new(format!(
        "{path}{} resolves to {target}, outside the repository",
        links.at()
    ))
    .note(link_note(link))
    .hint("symlinks may not leave the repository root; replace the symlink with a file that uses `extends:`")
    .into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    struct Tree(BTreeMap<&'static str, Link>);

    impl Links for Tree {
        fn lookup(&self, path: &str) -> Result<Link> {
            Ok(self.0.get(path).cloned().unwrap_or(Link::Missing))
        }
        fn inside(&self, _target: &str) -> bool {
            false
        }
        fn at(&self) -> String {
            String::new()
        }
    }

    fn tree(links: &[(&'static str, &str)]) -> Tree {
        let mut map = BTreeMap::from([
            ("", Link::Dir),
            ("base", Link::Dir),
            ("base/api", Link::Dir),
            ("base/api/service.yaml", Link::File),
            ("tenants", Link::Dir),
            ("tenants/a", Link::Dir),
            ("tenants/a/api", Link::Dir),
            ("tenants/a/api/values.yaml", Link::File),
            ("tenants/a/own.yaml", Link::File),
            ("tenants/b", Link::Dir),
            ("tenants/b/api", Link::Dir),
            ("tenants/b/api/secrets.enc.yaml", Link::File),
            ("stencil.yaml", Link::File),
        ]);
        for (at, target) in links {
            map.insert(at, Link::Symlink((*target).to_owned()));
        }
        Tree(map)
    }

    fn rule_of(result: Result<Option<(String, Link)>>) -> Option<&'static str> {
        result.err().and_then(|e| e.diagnostics()[0].rule)
    }

    #[test]
    fn no_symlink_no_question() {
        let t = tree(&[]);
        let (real, link) = resolve(&t, "tenants/a/api/values.yaml").unwrap().unwrap();
        assert_eq!(
            (real.as_str(), link),
            ("tenants/a/api/values.yaml", Link::File)
        );
        assert!(resolve(&t, "tenants/a/api/env.yaml").unwrap().is_none());
        // Plain paths are not judged here: `extends` and the loader check them.
        assert!(
            resolve(&t, "tenants/b/api/secrets.enc.yaml")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn tenant_symlinks_stay_in_the_tenant() {
        let inside = tree(&[("tenants/a/api/env.yaml", "../own.yaml")]);
        let (real, _) = resolve(&inside, "tenants/a/api/env.yaml").unwrap().unwrap();
        assert_eq!(real, "tenants/a/own.yaml");
        for (at, target, path) in [
            (
                "tenants/a/api/secrets.enc.yaml",
                "../../b/api/secrets.enc.yaml",
                "tenants/a/api/secrets.enc.yaml",
            ),
            (
                "tenants/a/api",
                "../b/api",
                "tenants/a/api/secrets.enc.yaml",
            ),
            ("tenants/a/api", "../b/api", "tenants/a/api/nothing.yaml"),
            ("tenants/a", "b", "tenants/a/tenant.yaml"),
            ("tenants/a", "a-real", "tenants/a/api"),
            (
                "tenants/a/api/values.yaml",
                "../../../base/api/service.yaml",
                "tenants/a/api/values.yaml",
            ),
            (
                "tenants/a/api/values.yaml",
                "../../../stencil.yaml",
                "tenants/a/api/values.yaml",
            ),
        ] {
            let t = tree(&[(at, target)]);
            assert_eq!(rule_of(resolve(&t, path)), Some(RULE), "{at} -> {target}");
        }
    }

    #[test]
    fn chains_are_judged_at_every_hop() {
        // Out and back through another tenant's symlink: b controls a's input.
        let t = tree(&[
            ("tenants/a/api/values.yaml", "../../b/link.yaml"),
            ("tenants/b/link.yaml", "../a/own.yaml"),
        ]);
        assert_eq!(
            rule_of(resolve(&t, "tenants/a/api/values.yaml")),
            Some(RULE)
        );
        // Out and back without a symlink on the way is the tenant's own file.
        let t = tree(&[("tenants/a/api/values.yaml", "../../b/../a/own.yaml")]);
        assert!(resolve(&t, "tenants/a/api/values.yaml").unwrap().is_some());
    }

    #[test]
    fn base_and_platform() {
        let t = tree(&[("base/api/prod.yaml", "../../tenants/b/api/secrets.enc.yaml")]);
        assert_eq!(rule_of(resolve(&t, "base/api/prod.yaml")), Some(RULE));
        let t = tree(&[("base/api/prod.yaml", "service.yaml")]);
        assert!(resolve(&t, "base/api/prod.yaml").unwrap().is_some());
        let t = tree(&[("base/api/prod.yaml", "../../stencil.yaml")]);
        assert_eq!(rule_of(resolve(&t, "base/api/prod.yaml")), Some(RULE));
        let t = tree(&[("stencil.yaml", "tenants/a/own.yaml")]);
        assert_eq!(rule_of(resolve(&t, "stencil.yaml")), Some(RULE));
        // A case-insensitive checkout, where `Tenants/a` is `tenants/a`.
        let mut t = tree(&[("stencil.yaml", "Tenants/a/own.yaml")]);
        t.0.extend([
            ("Tenants", Link::Dir),
            ("Tenants/a", Link::Dir),
            ("Tenants/a/own.yaml", Link::File),
        ]);
        assert_eq!(rule_of(resolve(&t, "stencil.yaml")), Some(RULE));
        let t = tree(&[("tenants", "elsewhere")]);
        assert_eq!(rule_of(resolve(&t, "tenants/a/own.yaml")), Some(RULE));
    }

    /// A plain recursive realpath, written independently of [`resolve`]: the real path and
    /// every symlink followed on the way, or `None` when something is missing, loops or
    /// leaves the root.
    fn naive(t: &Tree, path: &str, depth: usize) -> Option<(String, Vec<String>)> {
        if depth > MAX_SYMLINK_HOPS {
            return None;
        }
        let mut real: Vec<String> = Vec::new();
        let mut links = Vec::new();
        for part in path.split('/') {
            if !matches!(part, "" | ".") && t.0.get(real.join("/").as_str()) != Some(&Link::Dir) {
                return None; // only a folder has names or a parent (ENOTDIR)
            }
            match part {
                "" | "." => {}
                ".." => {
                    real.pop()?;
                }
                name => {
                    real.push(name.to_owned());
                    let here = real.join("/");
                    if let Link::Symlink(target) = t.0.get(here.as_str())? {
                        real.pop();
                        let (resolved, more) =
                            naive(t, &format!("{}/{target}", real.join("/")), depth + 1)?;
                        links.push(here);
                        links.extend(more);
                        real = resolved
                            .split('/')
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned)
                            .collect();
                    }
                }
            }
        }
        Some((real.join("/"), links))
    }

    #[test]
    fn agrees_with_a_plain_realpath_and_never_leaves_the_zone() {
        const NAMES: [&str; 12] = [
            "..", "..", ".", "a", "b", "s", "f", "g", "l1", "l2", "tenants", "base",
        ];
        const LINKS: [&str; 5] = [
            "tenants/a/s/l1",
            "tenants/a/l2",
            "tenants/b/l1",
            "base/s/l2",
            "l1",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let (mut followed, mut refused) = (0, 0);
        for _ in 0..2000 {
            let mut t = tree(&[]);
            t.0.extend([
                ("tenants/a/s", Link::Dir),
                ("tenants/a/s/f", Link::File),
                ("tenants/a/g", Link::File),
                ("tenants/b/s", Link::Dir),
                ("tenants/b/s/f", Link::File),
                ("base/s", Link::Dir),
                ("base/s/f", Link::File),
            ]);
            for at in LINKS {
                if next(3) > 0 {
                    let target: Vec<&str> =
                        (0..1 + next(4)).map(|_| NAMES[next(NAMES.len())]).collect();
                    t.0.insert(at, Link::Symlink(target.join("/")));
                }
            }
            for at in LINKS {
                for path in [at.to_owned(), format!("{at}/f"), format!("{at}/s/f")] {
                    let zone = Zone::of(&path);
                    let ours = resolve(&t, &path);
                    let plain = naive(&t, &path, 0);
                    if rule_of(resolve(&t, &path)) == Some(RULE) {
                        refused += 1;
                    }
                    if let Ok(Some((real, _))) = &ours {
                        let (real2, links) = plain.clone().expect("a realpath");
                        followed += usize::from(!links.is_empty());
                        assert_eq!(*real, real2, "{path} in {:?}", t.0);
                        assert!(zone.holds(real, false), "{path} -> {real}");
                        for link in &links {
                            assert!(
                                zone.holds(link, !matches!(zone, Zone::Platform)),
                                "{path} via {link}"
                            );
                        }
                    }
                    if let Some((real, links)) = plain
                        && zone.holds(&real, false)
                        && links
                            .iter()
                            .all(|l| zone.holds(l, !matches!(zone, Zone::Platform)))
                        && t.0.contains_key(real.as_str())
                    {
                        assert!(matches!(ours, Ok(Some(_))), "{path} in {:?}: {ours:?}", t.0);
                    }
                }
            }
        }
        // Both sides of the boundary were exercised.
        assert!(
            followed > 500 && refused > 500,
            "{followed} followed, {refused} refused"
        );
    }

    #[test]
    fn escapes_loops_dangling_and_absolute() {
        let t = tree(&[("tenants/a/api/values.yaml", "../../../../etc/passwd")]);
        let err = resolve(&t, "tenants/a/api/values.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the repository"), "{err}");
        let t = tree(&[
            ("tenants/a/x.yaml", "y.yaml"),
            ("tenants/a/y.yaml", "x.yaml"),
        ]);
        let err = resolve(&t, "tenants/a/x.yaml").unwrap_err().to_string();
        assert!(err.contains("too many levels"), "{err}");
        let t = tree(&[("tenants/a/x.yaml", "gone.yaml")]);
        let err = resolve(&t, "tenants/a/x.yaml").unwrap_err().to_string();
        assert!(err.contains("dangling"), "{err}");
        let t = tree(&[("tenants/a/x.yaml", "/etc/passwd")]);
        let err = resolve(&t, "tenants/a/x.yaml").unwrap_err().to_string();
        assert!(err.contains("outside the repository"), "{err}");
    }
}
