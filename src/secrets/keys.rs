//! Finding age private keys the way the sops CLI does: `SOPS_AGE_KEY` (the contents of a
//! keys file: one or more `AGE-SECRET-KEY-1…` lines), `SOPS_AGE_KEY_FILE`, then
//! `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/sops/age/keys.txt`). Keys from every
//! source are used.
//!
//! `rops` reads private keys only from its own environment variable (`ROPS_AGE`), so
//! [`Keys::export_for_rops`] hands the discovered keys over once, at start-up, before any
//! thread exists. Key material never appears in a message: only public recipients do.

use std::path::PathBuf;

use zeroize::Zeroizing;

/// Where keys came from and what they are, without the secret parts in `Debug`.
pub struct Keys {
    identities: Vec<age::x25519::Identity>,
    /// The identities' public recipients, computed once (a scalar multiplication each).
    recipients: Vec<String>,
    /// Secret key strings, kept to hand to rops; zeroized on drop.
    secrets: Vec<Zeroizing<String>>,
    /// `SOPS_AGE_KEY (1 key)`, `~/.config/sops/age/keys.txt (2 keys)`, for messages.
    pub sources: Vec<String>,
    /// Problems found while reading keys (unreadable file, malformed line), for messages.
    pub problems: Vec<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("recipients", &self.recipients())
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

impl Keys {
    fn empty() -> Keys {
        Keys {
            identities: Vec::new(),
            recipients: Vec::new(),
            secrets: Vec::new(),
            sources: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Reads keys from the sops locations in the environment.
    pub fn discover() -> Keys {
        let mut keys = Keys::empty();
        if let Ok(text) = std::env::var("SOPS_AGE_KEY") {
            keys.add_text(&Zeroizing::new(text), "SOPS_AGE_KEY");
        }
        if let Some(path) = std::env::var_os("SOPS_AGE_KEY_FILE") {
            keys.add_file(PathBuf::from(path), "SOPS_AGE_KEY_FILE", true);
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

    fn add_text(&mut self, text: &str, source: &str) {
        let mut found = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.parse::<age::x25519::Identity>() {
                Ok(identity) => {
                    self.recipients.push(identity.to_public().to_string());
                    self.identities.push(identity);
                    self.secrets.push(Zeroizing::new(line.to_owned()));
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

    /// Keys from the text of a keys file (tests and fuzzing).
    pub fn from_text(text: &str) -> Keys {
        let mut keys = Keys::empty();
        keys.add_text(text, "test");
        keys
    }

    pub fn identities(&self) -> &[age::x25519::Identity] {
        &self.identities
    }

    /// Public recipients of the keys held.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    /// Makes the keys visible to rops (`ROPS_AGE`), and only these keys.
    ///
    /// # Safety
    /// Changes the process environment: call it only while the process has one thread
    /// (at the top of `main`).
    pub unsafe fn export_for_rops(&self) {
        let joined = Zeroizing::new(
            self.secrets
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        // SAFETY: the caller guarantees no other thread exists, so nothing reads the
        // environment concurrently.
        unsafe {
            std::env::remove_var("ROPS_AGE_KEY_FILE");
            if joined.is_empty() {
                std::env::remove_var("ROPS_AGE");
            } else {
                std::env::set_var("ROPS_AGE", joined.as_str());
            }
        }
    }
}
