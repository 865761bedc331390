//! Entry points for fuzzing (`fuzz/`) and for replaying what fuzzing found
//! (`tests/it/fuzz_regressions.rs`): each takes arbitrary bytes and must return, whatever they
//! are, without panicking.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use stencil::emit;
use stencil::error::Result;
use stencil::load::{Loader, load_repo};
use stencil::pipeline::{Renderer, Selection};
use stencil::secrets::{Keys, sops};
use stencil::source::{EntryKind, RepoPath, Source, too_big};

/// A repository held in memory: path -> bytes.
pub struct Memory(BTreeMap<String, Vec<u8>>);

impl Source for Memory {
    fn read(&self, path: &RepoPath, max_bytes: u64) -> Result<Option<Vec<u8>>> {
        match self.0.get(path.as_str()) {
            Some(bytes) if bytes.len() as u64 > max_bytes => {
                Err(too_big(path, bytes.len() as u64, max_bytes))
            }
            Some(bytes) => Ok(Some(bytes.clone())),
            None => Ok(None),
        }
    }

    fn list(&self, dir: &RepoPath) -> Result<Vec<(String, EntryKind)>> {
        let prefix = format!("{dir}/");
        let mut out: Vec<(String, EntryKind)> = Vec::new();
        for path in self.0.keys() {
            let Some(rest) = path.strip_prefix(&prefix) else {
                continue;
            };
            let entry = match rest.split_once('/') {
                Some((folder, _)) => (folder.to_owned(), EntryKind::Dir),
                None => (rest.to_owned(), EntryKind::File),
            };
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
        out.sort();
        Ok(out)
    }

    fn kind(&self, path: &RepoPath) -> Result<Option<EntryKind>> {
        let prefix = format!("{path}/");
        Ok(if self.0.contains_key(path.as_str()) {
            Some(EntryKind::File)
        } else if self.0.keys().any(|k| k.starts_with(&prefix)) {
            Some(EntryKind::Dir)
        } else {
            None
        })
    }

    fn describe(&self) -> String {
        "memory".to_owned()
    }
}

const STENCIL_YAML: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
";
const SERVICE_YAML: &str = "\
kind: Service
image: { repository: registry.example.com/api }
port: 8000
replicas: 2
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { memory: 256Mi }
env:
  LOG_LEVEL: info
";
const VERSION_YAML: &str = "image: { tag: 1.0.0 }\n";
const TENANT_YAML: &str = "kind: Tenant\nenvironment: dev\nservices: [api]\n";

/// Arbitrary bytes as a tenant's files, through load, resolve, template, policy, build and
/// emit: objects or a typed error whose message renders.
///
/// The input is split on NUL bytes into, in order: tenant `acme`'s `api/values.yaml`,
/// `api/env.yaml`, `api/version.yaml`, its `tenant.yaml`, and the base `service.yaml`. Missing
/// parts keep a small valid repository's file. Returns whether it rendered.
pub fn render(data: &[u8]) -> bool {
    let mut parts = data.split(|b| *b == 0);
    let mut files = BTreeMap::new();
    files.insert("stencil.yaml".to_owned(), STENCIL_YAML.as_bytes().to_vec());
    files.insert(
        "base/api/version.yaml".to_owned(),
        VERSION_YAML.as_bytes().to_vec(),
    );
    for (path, default) in [
        ("tenants/acme/api/values.yaml", None),
        ("tenants/acme/api/env.yaml", None),
        ("tenants/acme/api/version.yaml", None),
        ("tenants/acme/tenant.yaml", Some(TENANT_YAML)),
        ("base/api/service.yaml", Some(SERVICE_YAML)),
    ] {
        match (parts.next(), default) {
            (Some(bytes), _) => {
                files.insert(path.to_owned(), bytes.to_vec());
            }
            (None, Some(text)) => {
                files.insert(path.to_owned(), text.as_bytes().to_vec());
            }
            (None, None) => {}
        }
    }
    let source = Memory(files);
    let loader = Loader::new(&source);
    let keys = Keys::from_text("");
    let outcome = load_repo(&loader).and_then(|repo| {
        let renderer = Renderer::new(&loader, &repo, &keys)?;
        let objects = renderer.render(&Selection::new(&[], &[], None)?)?;
        emit::stream(&objects, emit::Format::Yaml)
    });
    match outcome {
        Ok(text) => !text.is_empty(),
        Err(e) => {
            // Rendering a message quotes the offending line: it must not panic either.
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

/// Arbitrary bytes as a SOPS file: parsed, sealed, and opened with the demo key (which the
/// example repository's secrets files, the seeds, are encrypted for). Returns whether it
/// opened.
pub fn sops(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let file = stencil::origin::SourceFile::new("fuzz.enc.yaml", text);
    let Ok(doc) = sops::parse(&file) else {
        return false;
    };
    let _ = sops::sealed(&doc);
    match sops::open(&doc, demo_keys()) {
        Ok(_) => true,
        Err(e) => {
            assert!(!e.message.is_empty() && !e.hint.is_empty());
            false
        }
    }
}

fn demo_keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys::from_text(include_str!("../../keys/demo-age-key.txt")))
}
