//! Nothing half-written: every command that writes files is killed mid-write, for real, and
//! what the user had is still there, whole.
//!
//! The kill is the kernel's: under `ulimit -f N` a process that writes past N KiB of any file
//! gets SIGXFSZ and dies on the spot, in the middle of its write. A command that wrote its
//! output in place would leave a truncated file; stencil writes a temporary file beside the
//! target and renames it over, so the target is either untouched or complete.

use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::{Repo, demo_key, legacy_layout};

/// SIGXFSZ on Linux: "file size limit exceeded".
const SIGXFSZ: i32 = 25;

/// Runs stencil in `dir` under a file size limit of `kib` KiB, feeding `stdin`.
fn run_limited(dir: &Path, kib: u32, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f \"$0\" && exec \"$@\"")
        .arg(kib.to_string())
        .arg(env!("CARGO_BIN_EXE_stencil"))
        .args(args)
        .current_dir(dir)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("STENCIL_LOG")
        .env("HOME", dir.join(".home"))
        .env("XDG_CONFIG_HOME", dir.join(".home/.config"))
        .env("SOPS_AGE_KEY_FILE", demo_key())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[track_caller]
fn assert_killed_mid_write(out: &Output) {
    assert_eq!(
        out.status.signal(),
        Some(SIGXFSZ),
        "expected death by SIGXFSZ, got {:?}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every regular file under `dir`, by relative path, with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                walk(root, &path, out);
            } else if meta.is_file() {
                let rel = path.strip_prefix(root).expect("prefix");
                out.push((
                    rel.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn repo_with_a_secret() -> Repo {
    let repo = Repo::new().with_sops_rule();
    repo.set_secret("tenants/acme/api/secrets.enc.yaml", "TOKEN", "short");
    repo
}

#[test]
fn secrets_set_killed_mid_write_leaves_the_file_as_it_was() {
    let repo = repo_with_a_secret();
    let file = "tenants/acme/api/secrets.enc.yaml";
    let before = repo.read(file);
    assert!(
        before.len() < 4 * 1024,
        "the file must start under the limit"
    );
    let big = "x".repeat(16 * 1024);
    let args = ["secrets", "set", file, "BIG", "--from-stdin"];
    assert_killed_mid_write(&run_limited(repo.path(), 4, &args, &big));
    assert_eq!(repo.read(file), before, "the secrets file changed");
    // Without the limit the same command works, and the file still decrypts.
    repo.run_stdin(&args, &big).ok();
    let run = repo.run_in(".", &["secrets", "decrypt", file]).ok();
    assert!(run.stdout.contains("TOKEN: short") && run.stdout.contains(&big));
}

#[test]
fn secrets_encrypt_killed_mid_write_leaves_the_plaintext_file_whole() {
    let file = "tenants/acme/api/secrets.enc.yaml";
    let plain = format!("TOKEN: {}\n", "y".repeat(3 * 1024));
    let repo = repo_with_a_secret().file(file, &plain);
    let args = ["secrets", "encrypt", file];
    assert_killed_mid_write(&run_limited(repo.path(), 4, &args, ""));
    assert_eq!(repo.read(file), plain);
}

#[test]
fn bump_killed_mid_write_leaves_version_yaml_as_it_was() {
    let comment = format!("# {}\n", "release notes ".repeat(100));
    let version = format!("{comment}image: {{ tag: 1.0.0 }}\n");
    let repo = Repo::new().file("base/api/version.yaml", &version);
    assert_killed_mid_write(&run_limited(repo.path(), 1, &["bump", "api", "1.0.1"], ""));
    assert_eq!(repo.read("base/api/version.yaml"), version);
    // The replaced file keeps its mode (the temporary file it came from was 0600).
    use std::os::unix::fs::PermissionsExt as _;
    let path = repo.path().join("base/api/version.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    repo.run(&["bump", "api", "1.0.1"]).ok();
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "mode {mode:o}");
    let bumped = repo.read("base/api/version.yaml");
    assert!(
        bumped.contains("1.0.1") && bumped.starts_with(&comment),
        "{bumped}"
    );
}

#[test]
fn render_out_dir_killed_mid_write_keeps_the_previous_output() {
    let repo = Repo::example();
    let out = repo.path().join("out");
    let out_arg = out.display().to_string();
    repo.run(&["render", "--out-dir", &out_arg]).ok();
    let before = snapshot(&out);
    assert!(before.len() > 10);
    // A change, so that the new output differs from the old.
    let values = repo.read("tenants/momcorp/apiserver/values.yaml");
    let repo = repo.file(
        "tenants/momcorp/apiserver/values.yaml",
        format!("{values}\nreplicas: 7\n"),
    );
    assert_killed_mid_write(&run_limited(
        repo.path(),
        1,
        &["render", "--out-dir", &out_arg],
        "",
    ));
    assert_eq!(snapshot(&out), before);
}

#[test]
fn migrate_killed_mid_write_leaves_only_whole_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    legacy_layout(tmp.path());
    let args = [
        "migrate", "--from", "helm", "--to", "out", "--name", "chene",
    ];
    // The reference: the same migration, not interrupted.
    let full = Command::new(env!("CARGO_BIN_EXE_stencil"))
        .args([
            "migrate",
            "--from",
            "helm",
            "--to",
            "reference",
            "--name",
            "chene",
        ])
        .current_dir(tmp.path())
        .env("SOPS_AGE_KEY_FILE", demo_key())
        .output()
        .expect("migrate");
    assert!(
        full.status.success(),
        "{}",
        String::from_utf8_lossy(&full.stderr)
    );
    let reference = snapshot(&tmp.path().join("reference"));
    assert!(reference.iter().any(|(_, bytes)| bytes.len() > 1024));

    assert_killed_mid_write(&run_limited(tmp.path(), 1, &args, ""));
    let written = snapshot(&tmp.path().join("out"));
    let mut whole = 0;
    for (path, bytes) in &written {
        // What the killed write left: its own temporary file, named for its target.
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.starts_with('.') && name.contains(".stencil-") && name.ends_with(".tmp") {
            continue;
        }
        whole += 1;
        let whole = reference.iter().find(|(p, _)| p == path);
        assert_eq!(
            whole.map(|(_, b)| b),
            Some(bytes),
            "{path} is not the file an uninterrupted run writes"
        );
    }
    assert!(whole < reference.len(), "the run was not interrupted");
}
