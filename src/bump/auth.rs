//! How `bump --push` authenticates, in git's order of sources: a token from `--token-env`
//! (never printed); else the `http.<url>.extraheader` / `http.extraheader` values git
//! itself would send to the remote's URL (how `actions/checkout` hands over its token, and
//! which libgit2 does not read on its own); on a 401 then `GIT_ASKPASS`, git's credential
//! helpers, or ssh-agent for SSH.

use std::process::Command;

use git2::{Config, Cred, CredentialType, RemoteCallbacks, Repository};

/// Extra HTTP headers git would send to `url`: every `http.extraheader` whose
/// `http.<pattern>` section matches `url`, in configuration order. An empty value clears
/// the list gathered so far, as in git. Only for http(s) URLs.
pub(crate) fn extra_headers(config: &Config, url: &str) -> Vec<String> {
    let Some(target) = Url::parse(url) else {
        return Vec::new();
    };
    if target.scheme != "http" && target.scheme != "https" {
        return Vec::new();
    }
    let mut headers = Vec::new();
    let Ok(entries) = config.entries(Some(r"^http\..*extraheader$")) else {
        return headers;
    };
    let mut entries = entries;
    while let Some(Ok(entry)) = entries.next() {
        let (Some(name), Some(value)) = (entry.name(), entry.value()) else {
            continue;
        };
        if !section_matches(name, &target) {
            continue;
        }
        if value.is_empty() {
            headers.clear();
        } else {
            headers.push(value.to_owned());
        }
    }
    headers
}

/// Whether a configuration name `http[.<pattern>].extraheader` applies to `target`.
fn section_matches(name: &str, target: &Url) -> bool {
    if name == "http.extraheader" {
        return true;
    }
    name.strip_prefix("http.")
        .and_then(|rest| rest.strip_suffix(".extraheader"))
        .and_then(Url::parse)
        .is_some_and(|pattern| pattern.covers(target))
}

/// The parts of a URL git's `http.<url>.*` matching looks at.
#[derive(Debug, PartialEq)]
struct Url {
    scheme: String,
    user: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
}

impl Url {
    fn parse(url: &str) -> Option<Url> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                (Some(user.to_owned()), hostport)
            }
            None => (None, authority),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, Some(port.parse::<u16>().ok()?)),
            _ => (hostport, None),
        };
        if host.is_empty() {
            return None;
        }
        let default = match scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        Some(Url {
            port: port.filter(|p| Some(*p) != default),
            scheme,
            user,
            host: host.to_ascii_lowercase(),
            path: path.to_owned(),
        })
    }

    /// git's rule: same scheme, host (a `*` matches one label) and port; the pattern's user,
    /// when it names one, is the URL's; the pattern's path is a prefix of the URL's that ends
    /// at a `/`.
    fn covers(&self, target: &Url) -> bool {
        self.scheme == target.scheme
            && self.port == target.port
            && host_matches(&self.host, &target.host)
            && self
                .user
                .as_ref()
                .is_none_or(|u| target.user.as_ref() == Some(u))
            && path_prefix(&self.path, &target.path)
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host): (Vec<_>, Vec<_>) =
        (pattern.split('.').collect(), host.split('.').collect());
    pattern.len() == host.len() && pattern.iter().zip(&host).all(|(p, h)| *p == "*" || p == h)
}

fn path_prefix(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    pattern.is_empty()
        || path == pattern
        || path
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The credential callbacks for a fetch or push. A callback is only asked after the server
/// refused (401) or for SSH; three refusals end it.
pub(crate) fn callbacks<'a>(
    repo: &'a Repository,
    token_env: Option<&'a str>,
) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    let mut tries = 0;
    callbacks.credentials(move |url, username, allowed| {
        tries += 1;
        if tries > 3 {
            return Err(git2::Error::from_str(
                "authentication failed (credentials were refused)",
            ));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let Some(token) = token_env.and_then(|name| std::env::var(name).ok()) {
                return Cred::userpass_plaintext(username.unwrap_or("x-access-token"), &token);
            }
            if let Some(cred) = askpass(url, username) {
                return cred;
            }
            if let Ok(config) = repo.config() {
                return Cred::credential_helper(&config, url, username);
            }
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            return Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        Cred::default()
    });
    callbacks
}

/// Asks the `GIT_ASKPASS` program, as git does: once for the user name (unless the URL has
/// one) and once for the password, each prompt its only argument, the answer its first line.
fn askpass(url: &str, username: Option<&str>) -> Option<Result<Cred, git2::Error>> {
    let program = std::env::var_os("GIT_ASKPASS").filter(|p| !p.is_empty())?;
    let ask = |prompt: String| -> Result<String, git2::Error> {
        let out = Command::new(&program)
            .arg(prompt)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| git2::Error::from_str(&format!("cannot run GIT_ASKPASS: {e}")))?;
        if !out.status.success() {
            return Err(git2::Error::from_str("GIT_ASKPASS failed"));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().next().unwrap_or_default().to_owned())
    };
    let user = match username {
        Some(user) => Ok(user.to_owned()),
        None => ask(format!("Username for '{url}': ")),
    };
    Some(user.and_then(|user| {
        let password = ask(format!("Password for '{url}': "))?;
        Cred::userpass_plaintext(&user, &password)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lines: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, lines).unwrap();
        let config = Config::open(&path).unwrap();
        (dir, config)
    }

    #[test]
    fn the_header_actions_checkout_writes_is_sent_to_that_host_only() {
        let (_dir, c) = config(
            "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3M=\n",
        );
        let header = vec!["AUTHORIZATION: basic eC1hY2Nlc3M=".to_owned()];
        assert_eq!(extra_headers(&c, "https://github.com/acme/deploy"), header);
        assert_eq!(
            extra_headers(&c, "https://GitHub.com:443/acme/deploy.git"),
            header
        );
        for elsewhere in [
            "https://github.com.evil.test/acme/deploy",
            "http://github.com/acme/deploy",
            "https://github.com:8443/acme/deploy",
            "https://gitlab.com/acme/deploy",
            "ssh://git@github.com/acme/deploy",
            "git@github.com:acme/deploy",
        ] {
            assert!(extra_headers(&c, elsewhere).is_empty(), "{elsewhere}");
        }
    }

    #[test]
    fn paths_match_at_a_slash_and_an_empty_value_clears() {
        let (_dir, c) = config(concat!(
            "[http]\n\textraheader = X-All: 1\n",
            "[http \"https://git.example/acme\"]\n\textraheader = X-Acme: 1\n",
            "[http \"https://*.example/\"]\n\textraheader = X-Star: 1\n",
            "[http \"https://git.example/other\"]\n\textraheader =\n",
        ));
        assert_eq!(
            extra_headers(&c, "https://git.example/acme/deploy"),
            ["X-All: 1", "X-Acme: 1", "X-Star: 1"]
        );
        assert_eq!(
            extra_headers(&c, "https://git.example/acmecorp/deploy"),
            ["X-All: 1", "X-Star: 1"]
        );
        assert!(extra_headers(&c, "https://git.example/other/x").is_empty());
        assert_eq!(
            extra_headers(&c, "https://a.b.example/x"),
            ["X-All: 1"],
            "a star is one label"
        );
    }

    #[test]
    fn a_user_in_the_pattern_must_be_the_urls() {
        let (_dir, c) = config("[http \"https://ci@git.example/\"]\n\textraheader = X-Ci: 1\n");
        assert_eq!(extra_headers(&c, "https://ci@git.example/r"), ["X-Ci: 1"]);
        assert!(extra_headers(&c, "https://git.example/r").is_empty());
        assert!(extra_headers(&c, "https://bob@git.example/r").is_empty());
    }
}
