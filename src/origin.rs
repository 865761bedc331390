//! Where a value came from: a file of the repository and a line and column in it.
//!
//! Every node the loader builds carries an [`Origin`]; merging keeps the winning origin and
//! remembers the ones it overrode, so provenance is data that `explain` only has to print.

use std::fmt;
use std::sync::Arc;

/// One input file, kept in memory so that diagnostics can quote the offending line.
#[derive(Debug)]
pub struct SourceFile {
    /// Repository-relative path with `/` separators, e.g. `tenants/momcorp/apiserver/values.yaml`.
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        self.text
            .split('\n')
            .nth(index)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// A position in a [`SourceFile`]: 1-based line and column.
#[derive(Clone)]
pub struct Origin {
    pub file: Arc<SourceFile>,
    pub line: u32,
    pub col: u32,
}

impl Origin {
    pub fn new(file: &Arc<SourceFile>, line: u32, col: u32) -> Self {
        Self {
            file: Arc::clone(file),
            line,
            col,
        }
    }

    /// The start of a file: for problems that concern a whole file.
    pub fn file_start(file: &Arc<SourceFile>) -> Self {
        Self::new(file, 1, 1)
    }

    pub fn path(&self) -> &str {
        &self.file.path
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.path, self.line, self.col)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.file.path == other.file.path && self.line == other.line && self.col == other.col
    }
}

impl Eq for Origin {}

/// What a file is, which decides the typed model it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Settings,
    Tenant,
    /// A service definition layer: base `service.yaml`, a profile, or a tenant `values.yaml`.
    ServiceLayer,
    Version,
    Env,
}

impl Role {
    pub(crate) const ALL: [Role; 5] = [
        Role::Settings,
        Role::Tenant,
        Role::ServiceLayer,
        Role::Version,
        Role::Env,
    ];

    /// Whether a file at `path` (repository-relative) can be an input in this role. Decided on
    /// the path alone, before the file is read.
    pub fn admits(self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.iter().any(|p| p.is_empty() || p.starts_with('.')) {
            return false;
        }
        match (self, parts.as_slice()) {
            (Role::Settings, ["stencil.yaml"]) => true,
            (Role::Tenant, ["tenants", _, "tenant.yaml"]) => true,
            (Role::Env, ["tenants", _, _, "env.yaml"]) => true,
            (Role::Version, ["base" | "tenants", .., "version.yaml"]) => {
                matches!(parts.as_slice(), ["base", _, _] | ["tenants", _, _, _])
            }
            (Role::ServiceLayer, ["base", .., name]) => layer_name(name, false),
            (Role::ServiceLayer, ["tenants", _, .., name]) => {
                parts.len() >= 3 && layer_name(name, true)
            }
            _ => false,
        }
    }

    /// Whether any role admits `path`: the files whose lines a message may quote.
    pub fn any_admits(path: &str) -> bool {
        Role::ALL.iter().any(|role| role.admits(path))
    }

    pub(crate) fn expected(self) -> &'static str {
        match self {
            Role::Settings => "settings are read from stencil.yaml only",
            Role::Tenant => "a tenant is read from tenants/<tenant>/tenant.yaml",
            Role::ServiceLayer => {
                "service layers are .yaml files under base/ or a tenant's own folder, other than tenant.yaml, env.yaml, version.yaml and SOPS files"
            }
            Role::Version => {
                "version files are base/<service>/version.yaml and tenants/<tenant>/<service>/version.yaml"
            }
            Role::Env => "env files are tenants/<tenant>/<service>/env.yaml",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Role::Settings => "invalid stencil.yaml",
            Role::Tenant => "invalid tenant definition",
            Role::ServiceLayer => "invalid service definition",
            Role::Version => "invalid version file",
            Role::Env => "invalid env file",
        }
    }
}

/// A file name a service layer may have: YAML, and not a file of another role (in a tenant's
/// folder: `tenant.yaml`, `env.yaml`; anywhere: `version.yaml`, SOPS files).
fn layer_name(name: &str, tenant: bool) -> bool {
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    let sops = name.ends_with(".enc.yaml") || name.ends_with(".enc.yml");
    let other_role =
        name == "version.yaml" || (tenant && matches!(name, "tenant.yaml" | "env.yaml"));
    yaml && !sops && !other_role
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_lookup_handles_crlf_and_bounds() {
        let file = SourceFile::new("a.yaml", "one\r\ntwo\nthree");
        assert_eq!(file.line(1), Some("one"));
        assert_eq!(file.line(2), Some("two"));
        assert_eq!(file.line(3), Some("three"));
        assert_eq!(file.line(4), None);
        assert_eq!(file.line(0), None);
    }
}
