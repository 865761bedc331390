//! A fixture repository in a temp dir and the real `stencil` binary run against it.
#![allow(dead_code)]

pub(crate) mod http_git;

use std::path::{Path, PathBuf};
use std::process::Output;

use tempfile::TempDir;

pub(crate) const STENCIL_YAML: &str = "\
kind: Stencil
name: plat
domain: example.com
environments:
  dev: { cluster: https://dev.example.com, domain: dev.example.com }
  prod: { cluster: https://prod.example.com }
";

pub(crate) const SERVICE_YAML: &str = "\
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

pub(crate) const VERSION_YAML: &str = "image: { tag: 1.0.0 }\n";

pub(crate) const TENANT_YAML: &str = "\
kind: Tenant
environment: dev
services: [api]
";

pub(crate) struct Repo {
    dir: TempDir,
}

impl Repo {
    /// An empty directory.
    pub(crate) fn empty() -> Repo {
        Repo {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A valid repository: one service `api`, one tenant `acme` in `dev`.
    pub(crate) fn new() -> Repo {
        Repo::empty()
            .file("stencil.yaml", STENCIL_YAML)
            .file("base/api/service.yaml", SERVICE_YAML)
            .file("base/api/version.yaml", VERSION_YAML)
            .file("tenants/acme/tenant.yaml", TENANT_YAML)
    }

    /// A copy of the example repository at the project root.
    pub(crate) fn example() -> Repo {
        let repo = Repo::empty();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["stencil.yaml", ".sops.yaml"] {
            std::fs::copy(root.join(file), repo.path().join(file)).expect("copy");
        }
        copy_dir(&root.join("base"), &repo.path().join("base"));
        copy_dir(&root.join("tenants"), &repo.path().join("tenants"));
        repo
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn file(self, path: &str, content: impl AsRef<[u8]>) -> Repo {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, content).expect("write");
        self
    }

    pub(crate) fn remove(self, path: &str) -> Repo {
        std::fs::remove_file(self.dir.path().join(path)).expect("remove");
        self
    }

    pub(crate) fn symlink(self, path: &str, target: impl AsRef<Path>) -> Repo {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, &full).expect("symlink");
        self
    }

    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path)).expect("read")
    }

    /// Runs `stencil --repo <dir> ARGS` with the demo age key (see [`stencil`]).
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `stencil --repo <dir> ARGS` with extra environment (`None` removes a variable).
    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
        let mut cmd = stencil(self.dir.path());
        cmd.arg("--repo").arg(self.dir.path()).args(args);
        for (key, value) in env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        Run::from(cmd.output().expect("run stencil"))
    }

    /// Adds a `.sops.yaml` whose one rule encrypts every `secrets.enc.yaml` for the demo key.
    pub(crate) fn with_sops_rule(self) -> Repo {
        let rule = format!(
            "creation_rules:\n  - path_regex: secrets\\.enc\\.yaml$\n    age: {}\n",
            demo_recipient()
        );
        self.file(".sops.yaml", rule)
    }

    /// Sets one secret with `stencil secrets set FILE KEY --from-stdin` (the repo needs a
    /// `.sops.yaml` rule for FILE).
    pub(crate) fn set_secret(&self, file: &str, key: &str, value: &str) {
        self.run_stdin(&["secrets", "set", file, key, "--from-stdin"], value)
            .ok();
    }

    /// Runs `stencil -vv argocd generate` as Argo CD's cmp-server does for tenant x service:
    /// in the app's source folder (made if missing), no `--repo`, the build environment set.
    pub(crate) fn generate(&self, tenant: &str, service: &str) -> Run {
        self.generate_env(tenant, service, &[])
    }

    /// [`Repo::generate`] with extra environment (`None` removes a variable).
    pub(crate) fn generate_env(
        &self,
        tenant: &str,
        service: &str,
        env: &[(&str, Option<&str>)],
    ) -> Run {
        let path = format!("tenants/{tenant}/{service}");
        std::fs::create_dir_all(self.dir.path().join(&path)).expect("mkdir");
        let mut cmd = stencil(self.dir.path());
        cmd.current_dir(self.dir.path().join(&path))
            .env_remove("STENCIL_REPO")
            .env("ARGOCD_APP_NAME", format!("{tenant}-{service}"))
            .env("ARGOCD_APP_NAMESPACE", tenant)
            .env("ARGOCD_APP_SOURCE_PATH", &path)
            .env(
                "ARGOCD_APP_REVISION",
                "0123456789abcdef0123456789abcdef01234567",
            )
            .env("KUBE_VERSION", "1.33.1")
            .env("ARGOCD_ENV_TENANT", tenant)
            .env("ARGOCD_ENV_SERVICE", service)
            .args(["-vv", "argocd", "generate"]);
        for (key, value) in env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        Run::from(cmd.output().expect("run stencil"))
    }

    /// Runs `stencil ARGS` in the repo root (no --repo), feeding `stdin`.
    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut cmd = stencil(self.dir.path());
        cmd.current_dir(self.dir.path())
            .args(args)
            .write_stdin(stdin.to_owned());
        Run::from(cmd.output().expect("run stencil"))
    }

    /// Runs `stencil ARGS` with the repo as the current directory (no --repo).
    pub(crate) fn run_in(&self, cwd: &str, args: &[&str]) -> Run {
        let mut cmd = stencil(self.dir.path());
        cmd.current_dir(self.dir.path().join(cwd)).args(args);
        Run::from(cmd.output().expect("run stencil"))
    }
}

/// Runs the git CLI in `dir` with a fixed identity (and file-URL transport allowed, for
/// clones of temp repositories); fails the test with git's stderr. Returns stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "protocol.file.allow=always"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The project's public demo age key (the example repository's secrets are encrypted for it).
pub(crate) fn demo_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-age-key.txt")
}

/// The binary, isolated from the developer's keys and config: HOME and XDG_CONFIG_HOME
/// point into the fixture, and the only age key is the demo key.
pub(crate) fn stencil(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("stencil");
    cmd.env_remove("STENCIL_LOG")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("ROPS_AGE")
        .env("HOME", home.join(".home"))
        .env("XDG_CONFIG_HOME", home.join(".home/.config"))
        .env("SOPS_AGE_KEY_FILE", demo_key());
    cmd
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[derive(Debug)]
pub(crate) struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        }
    }
}

impl Run {
    #[track_caller]
    pub(crate) fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success, stderr:\n{}", self.stderr);
        self
    }

    /// Fails with exit code 3, nothing on stdout, and every `needles` in stderr.
    #[track_caller]
    pub(crate) fn fails(self, needles: &[&str]) -> Run {
        assert_eq!(
            self.code, 3,
            "expected exit 3, got {}; stderr:\n{}",
            self.code, self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on error, got:\n{}",
            self.stdout
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}:\n{}",
                self.stderr
            );
        }
        self
    }

    /// The YAML stream on stdout as JSON values.
    pub(crate) fn docs(&self) -> Vec<serde_json::Value> {
        serde_yaml::Deserializer::from_str(&self.stdout)
            .map(|d| serde::Deserialize::deserialize(d).expect("valid YAML document"))
            .collect()
    }

    /// The objects of `render -o json`: the items of its `v1 List`.
    #[track_caller]
    pub(crate) fn json_items(&self) -> Vec<serde_json::Value> {
        let list: serde_json::Value = serde_json::from_str(&self.stdout).expect("JSON output");
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["kind"], "List");
        list["items"].as_array().expect("items").clone()
    }

    /// `Kind name` of every document in the stream, in order.
    pub(crate) fn kinds_and_names(&self) -> Vec<String> {
        self.docs().iter().map(kind_and_name).collect()
    }

    /// The one object of a kind (and name) in the stream.
    #[track_caller]
    pub(crate) fn object(&self, kind: &str, name: &str) -> serde_json::Value {
        let found: Vec<serde_json::Value> = self
            .docs()
            .into_iter()
            .filter(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {kind} {name} in:\n{}",
            self.stdout
        );
        found.into_iter().next().expect("one")
    }
}

/// The demo key's public recipient (from its `# public key:` line).
pub(crate) fn demo_recipient() -> String {
    std::fs::read_to_string(demo_key())
        .expect("demo key")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .expect("public key line")
}

/// The legacy "universal Helm chart" values layout of seed 003, under `<dir>/helm`:
/// `prod/devops-demo-base/` holds the base; `tenant-1` and `tenant-2` symlink their
/// values.yaml and version.yaml to it and have their own env.yaml (a map, a list) and SOPS
/// secrets; `tenant-3`'s values.yaml is a real file differing from the base in 2 keys, with
/// a version of its own; `dev/devops-demo/` holds dev. Secrets are encrypted for the demo key
/// by `stencil secrets encrypt`.
pub(crate) fn legacy_layout(dir: &Path) -> PathBuf {
    let helm = dir.join("helm");
    let write = |path: &str, text: &str| {
        let full = helm.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, text).expect("write");
    };
    let base = "\
image:
  repository: 012345678901.dkr.ecr.us-east-1.amazonaws.com/devops-demo
  pullPolicy: IfNotPresent
replicaCount: 2
containerPort: 3000
service:
  type: ClusterIP
  port: 80
  targetPort: 3000
resources:
  requests: { cpu: 100m, memory: 128Mi }
  limits: { memory: 256Mi }
livenessProbe:
  httpGet: { path: /healthz, port: 3000 }
readinessProbe:
  httpGet: { path: /ready, port: 3000 }
  periodSeconds: 5
ingress:
  enabled: true
  className: alb
  hosts:
    - host: devops-demo.chene-factory.com
      paths: [{ path: /, pathType: Prefix }]
autoscaling:
  enabled: true
  minReplicas: 2
  maxReplicas: 6
  targetCPUUtilizationPercentage: 75
env:
  - { name: NODE_ENV, value: production }
  - { name: LOG_FORMAT, value: json }
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution: []
";
    write("prod/devops-demo-base/values.yaml", base);
    write(
        "prod/devops-demo-base/version.yaml",
        "image:\n  tag: 2024.11.20-abc1234\n",
    );
    for tenant in ["tenant-1", "tenant-2"] {
        let dir = helm.join(tenant);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::os::unix::fs::symlink(
            "../prod/devops-demo-base/values.yaml",
            dir.join("values.yaml"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(
            "../prod/devops-demo-base/version.yaml",
            dir.join("version.yaml"),
        )
        .expect("symlink");
    }
    write(
        "tenant-1/env.yaml",
        "env:\n  - { name: NODE_ENV, value: production }\n  - { name: LOG_FORMAT, value: json }\n  - { name: TENANT_NAME, value: tenant-1 }\n",
    );
    // Helm replaces lists: tenant-2's list drops LOG_FORMAT.
    write(
        "tenant-2/env.yaml",
        "env:\n  - { name: NODE_ENV, value: production }\n  - { name: TENANT_NAME, value: tenant-2 }\n  - { name: MAX_UPLOAD_MB, value: 50 }\n",
    );
    write(
        "tenant-3/values.yaml",
        &base
            .replace("replicaCount: 2", "replicaCount: 4")
            .replace("limits: { memory: 256Mi }", "limits: { memory: 512Mi }"),
    );
    write(
        "tenant-3/version.yaml",
        "image:\n  tag: 2024.11.02-0ddba11\n",
    );
    write(
        "tenant-3/env.yaml",
        "env:\n  - { name: NODE_ENV, value: production }\n  - { name: LOG_FORMAT, value: json }\n  - { name: TENANT_NAME, value: tenant-3 }\n",
    );
    write(
        "dev/devops-demo/values.yaml",
        &base
            .replace("replicaCount: 2", "replicaCount: 1")
            .replace(
                "devops-demo.chene-factory.com",
                "devops-demo.dev.chene-factory.com",
            )
            .replace("value: production", "value: development"),
    );
    write(
        "dev/devops-demo/version.yaml",
        "image:\n  tag: 2024.11.21-def5678\n",
    );
    for (tenant, value) in [
        ("tenant-1", "t1-db-password"),
        ("tenant-2", "t2-db-password"),
        ("tenant-3", "t3-db-password"),
        ("dev/devops-demo", "dev-db-password"),
    ] {
        let file = format!("{tenant}/secrets.enc.yaml");
        write(
            &file,
            &format!("DB_PASSWORD: {value}\nAPI_KEY: key-{value}\n"),
        );
        let out = stencil(dir)
            .args(["secrets", "encrypt", "--age", &demo_recipient()])
            .arg(helm.join(&file))
            .output()
            .expect("encrypt");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    helm
}

/// `Kind name` of a rendered object.
pub(crate) fn kind_and_name(doc: &serde_json::Value) -> String {
    format!(
        "{} {}",
        doc["kind"].as_str().unwrap_or(""),
        doc["metadata"]["name"].as_str().unwrap_or("")
    )
}
