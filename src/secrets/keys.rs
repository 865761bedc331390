//! Finding age private keys the way the sops CLI does: `SOPS_AGE_KEY` (the contents of a
//! keys file: one or more `AGE-SECRET-KEY-1…` lines), `SOPS_AGE_KEY_FILE`,
//! `SOPS_AGE_KEY_CMD` (a command printing such lines), then
//! `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/sops/age/keys.txt`). Keys from every
//! source are used.
//!
//! Key files are read lazily, the first time a file has to be decrypted: a command that
//! decrypts nothing (`--help`, a render without secrets, `bump`) never opens one. Keys stay
//! in this process's memory (zeroized on drop) and are handed to the decryption code
//! directly; they are never put into the process environment, and `SOPS_AGE_KEY` is taken
//! out of it at start-up, so no child process (a git credential helper, an askpass program)
//! inherits a key. Key material never appears in a message: only public recipients do.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use zeroize::Zeroizing;

/// The age identities of this run, read on first use.
pub struct Keys {
    /// Where to read from: the sops locations in the environment, or a given text.
    origin: Origin,
    loaded: OnceLock<Loaded>,
    /// Data keys unwrapped once and asked for again (see [`Keys::share_data_keys`]).
    shared: SharedDataKeys,
}

/// The data keys a `diff` unwrapped on one side, until the other side asks for them: by the
/// armored age file they were sealed in.
#[derive(Default)]
struct SharedDataKeys {
    on: AtomicBool,
    keys: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

enum Origin {
    /// The sops locations; `SOPS_AGE_KEY`'s text taken out of the environment at start-up.
    Environment(Option<Zeroizing<String>>),
    Text,
}

/// What was read, without the secret parts in `Debug`.
struct Loaded {
    identities: Vec<age::x25519::Identity>,
    /// The same keys with their public halves computed once, for unwrapping data keys.
    unwrappers: Vec<super::unwrap::Unwrapper>,
    /// The identities' public recipients, computed once (a scalar multiplication each).
    recipients: Vec<String>,
    /// `SOPS_AGE_KEY (1 key)`, `~/.config/sops/age/keys.txt (2 keys)`, for messages.
    sources: Vec<String>,
    /// Problems found while reading keys (unreadable file, malformed line), for messages.
    problems: Vec<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.loaded.get() {
            Some(loaded) => f
                .debug_struct("Keys")
                .field("recipients", &loaded.recipients)
                .field("sources", &loaded.sources)
                .finish_non_exhaustive(),
            None => f.write_str("Keys(not loaded)"),
        }
    }
}

impl Loaded {
    fn empty() -> Loaded {
        Loaded {
            identities: Vec::new(),
            unwrappers: Vec::new(),
            recipients: Vec::new(),
            sources: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Reads keys from the sops locations: `SOPS_AGE_KEY` (its text, taken before), then the
    /// files named by the environment.
    fn from_environment(inline: Option<&str>) -> Loaded {
        let mut keys = Loaded::empty();
        if let Some(text) = inline {
            keys.add_text(text, "SOPS_AGE_KEY");
        }
        if let Some(path) = std::env::var_os("SOPS_AGE_KEY_FILE") {
            keys.add_file(PathBuf::from(path), "SOPS_AGE_KEY_FILE", true);
        }
        if let Ok(command) = std::env::var("SOPS_AGE_KEY_CMD") {
            keys.add_command(&command);
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        if let Some(dir) = config {
            keys.add_file(dir.join("sops/age/keys.txt"), "default", false);
        }
        keys
    }

    fn add_file(&mut self, path: PathBuf, source: &str, required: bool) {
        match std::fs::read_to_string(&path) {
            Ok(text) => self.add_text(&Zeroizing::new(text), &path.display().to_string()),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => self
                .problems
                .push(format!("cannot read {} ({source}): {e}", path.display())),
        }
    }

    /// `SOPS_AGE_KEY_CMD`, as sops runs it: split like a shell would (no shell runs), its
    /// stdout a keys file. Its stderr is the user's; its output never appears in a message.
    fn add_command(&mut self, command: &str) {
        let Some(words) = shlex::split(command).filter(|w| !w.is_empty()) else {
            self.problems.push(
                "SOPS_AGE_KEY_CMD cannot be split into a command and its arguments".to_owned(),
            );
            return;
        };
        let out = std::process::Command::new(&words[0])
            .args(&words[1..])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output();
        match out {
            Ok(out) if out.status.success() => {
                let text = Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
                self.add_text(&text, "SOPS_AGE_KEY_CMD");
            }
            Ok(out) => self.problems.push(format!(
                "SOPS_AGE_KEY_CMD `{}` failed ({})",
                words[0], out.status
            )),
            Err(e) => self
                .problems
                .push(format!("cannot run SOPS_AGE_KEY_CMD `{}`: {e}", words[0])),
        }
    }

    fn add_text(&mut self, text: &str, source: &str) {
        let mut found = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.parse::<age::x25519::Identity>() {
                Ok(identity) => {
                    // The public key is computed once, by the unwrapper (a base-point
                    // multiplication, a tenth of `argocd generate`'s instructions each).
                    let unwrapper = super::unwrap::Unwrapper::new(&identity);
                    self.recipients.push(
                        unwrapper
                            .as_ref()
                            .and_then(super::unwrap::Unwrapper::recipient)
                            .unwrap_or_else(|| identity.to_public().to_string()),
                    );
                    self.unwrappers.extend(unwrapper);
                    self.identities.push(identity);
                    found += 1;
                }
                // Never echo the line: it may be a key with a typo.
                Err(_) => self
                    .problems
                    .push(format!("{source}: line {} is not an age secret key", n + 1)),
            }
        }
        self.sources.push(format!(
            "{source} ({found} key{})",
            if found == 1 { "" } else { "s" }
        ));
    }
}

impl Keys {
    /// The keys in the sops locations of the environment, read when first needed.
    /// `SOPS_AGE_KEY` stays in the environment (see [`Keys::take_from_environment`]).
    pub fn discover() -> Keys {
        let inline = std::env::var("SOPS_AGE_KEY").ok().map(Zeroizing::new);
        Keys {
            origin: Origin::Environment(inline),
            loaded: OnceLock::new(),
            shared: SharedDataKeys::default(),
        }
    }

    /// Like [`Keys::discover`], and removes `SOPS_AGE_KEY` (a private key in the
    /// environment) from this process's environment, so that no child process inherits it.
    /// Key files are still read only when first needed.
    ///
    /// # Safety
    /// Changes the process environment: call it only while the process has one thread
    /// (at the top of `main`).
    pub unsafe fn take_from_environment() -> Keys {
        let keys = Keys::discover();
        // SAFETY: the caller guarantees no other thread exists, so nothing reads the
        // environment concurrently.
        unsafe { std::env::remove_var("SOPS_AGE_KEY") };
        keys
    }

    /// Keys from the text of a keys file (tests and fuzzing).
    pub fn from_text(text: &str) -> Keys {
        let mut loaded = Loaded::empty();
        loaded.add_text(text, "test");
        Keys {
            origin: Origin::Text,
            loaded: OnceLock::from(loaded),
            shared: SharedDataKeys::default(),
        }
    }

    fn get(&self) -> &Loaded {
        self.loaded.get_or_init(|| match &self.origin {
            Origin::Environment(inline) => {
                Loaded::from_environment(inline.as_deref().map(std::string::String::as_str))
            }
            // `from_text` fills `loaded` at once.
            Origin::Text => Loaded::empty(),
        })
    }

    /// Whether the keys have been read (tests: a command that decrypts nothing reads none).
    pub fn is_loaded(&self) -> bool {
        self.loaded.get().is_some()
    }

    pub fn identities(&self) -> &[age::x25519::Identity] {
        &self.get().identities
    }

    /// The keys as data-key unwrappers (see [`super::unwrap`]).
    pub(crate) fn unwrappers(&self) -> &[super::unwrap::Unwrapper] {
        &self.get().unwrappers
    }

    /// From now on, a data key unwrapped once is kept until it is asked for a second time.
    /// The two sides of a `diff` hold mostly the same secrets files, and an X25519 exchange
    /// per file is the costliest step of reading one; a render, which reads each file once,
    /// keeps none. A key is kept only between its two uses: memory does not grow with the
    /// repository. Keys are zeroized when dropped, as the identities are.
    pub(crate) fn share_data_keys(&self) {
        self.shared.on.store(true, Ordering::Relaxed);
    }

    /// The data key sealed in `enc` (an armored age file): the one a side unwrapped before,
    /// when [`Keys::share_data_keys`] is on, else `unwrap`'s. A file that does not open is
    /// not remembered.
    pub(crate) fn data_key(
        &self,
        enc: &str,
        unwrap: impl FnOnce() -> Option<Zeroizing<Vec<u8>>>,
    ) -> Option<Zeroizing<Vec<u8>>> {
        if !self.shared.on.load(Ordering::Relaxed) {
            return unwrap();
        }
        if let Some(key) = crate::source::lock(&self.shared.keys).remove(enc) {
            return Some(key);
        }
        let key = unwrap()?;
        crate::source::lock(&self.shared.keys).insert(enc.to_owned(), key.clone());
        Some(key)
    }

    /// Public recipients of the keys held.
    pub fn recipients(&self) -> &[String] {
        &self.get().recipients
    }

    /// Where keys were found, for messages (`SOPS_AGE_KEY_FILE (1 key)`).
    pub fn sources(&self) -> &[String] {
        &self.get().sources
    }

    /// Problems found while reading keys, for messages (never key material).
    pub fn problems(&self) -> &[String] {
        &self.get().problems
    }

    pub fn is_empty(&self) -> bool {
        self.identities().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared, a data key is unwrapped once for two uses and then forgotten; a file that
    /// does not open is tried each time; not shared, every use unwraps.
    #[test]
    fn data_keys_are_shared_between_two_uses_only() {
        let keys = Keys::from_text("");
        let calls = std::cell::Cell::new(0);
        let unwrap = || {
            calls.set(calls.get() + 1);
            Some(Zeroizing::new(vec![7u8; 32]))
        };
        keys.data_key("enc", unwrap);
        keys.data_key("enc", unwrap);
        assert_eq!(calls.get(), 2, "not shared: every use unwraps");
        keys.share_data_keys();
        calls.set(0);
        assert_eq!(
            keys.data_key("enc", unwrap).as_deref(),
            Some(&vec![7u8; 32])
        );
        assert_eq!(
            keys.data_key("enc", unwrap).as_deref(),
            Some(&vec![7u8; 32])
        );
        assert_eq!(calls.get(), 1, "the second use takes the first one's key");
        assert!(crate::source::lock(&keys.shared.keys).is_empty());
        let mut tries = 0;
        for _ in 0..2 {
            assert!(
                keys.data_key("other", || {
                    tries += 1;
                    None
                })
                .is_none()
            );
        }
        assert_eq!(tries, 2, "a file that does not open is not remembered");
    }

    #[test]
    fn discovering_reads_nothing_until_a_key_is_needed() {
        let keys = Keys::discover();
        assert!(!keys.is_loaded());
        assert!(format!("{keys:?}").contains("not loaded"));
    }

    #[test]
    fn malformed_lines_are_reported_without_their_text() {
        let keys = Keys::from_text("# comment\nAGE-SECRET-KEY-1NOTAKEY\n");
        assert!(keys.is_empty());
        assert_eq!(keys.problems(), ["test: line 2 is not an age secret key"]);
        assert!(!keys.problems()[0].contains("NOTAKEY"));
    }
}
