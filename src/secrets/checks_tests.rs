//! In-process tests of the two guardrails a secrets file meets before any value is used:
//! `secrets-binding` (the file names its own place, in an encrypted entry) and
//! `secrets-recipients` (it is encrypted only for the recipients `.sops.yaml` lists for its
//! path). Each asserts the rule id and the file:line:col reported, and that the benign case
//! and the exceptions pass.

use std::sync::Arc;

use super::{Checks, SopsRules, check_binding, check_foreign};
use crate::error::{Error, rules_and_places as found};
use crate::node::Node;
use crate::origin::SourceFile;
use crate::source::RepoPath;
use crate::yaml::read::{Limits, parse};

const PATH: &str = "tenants/acme/api/secrets.enc.yaml";

/// The encrypted file as it lies in the repository: the binding's line is what is reported.
fn encrypted(scope_encrypted: bool) -> Arc<SourceFile> {
    let scope = if scope_encrypted {
        "ENC[AES256_GCM,data:c2NvcGU=,iv:aXY=,tag:dGFn,type:str]"
    } else {
        "tenants/acme/api"
    };
    SourceFile::new(
        PATH,
        format!(
            "DB_PASSWORD: ENC[AES256_GCM,data:cHc=,iv:aXY=,tag:dGFn,type:str]\nstencil.dev/scope: {scope}\nsops:\n  age:\n    - recipient: age1foreign\n"
        ),
    )
}

fn node(file: &Arc<SourceFile>) -> Node {
    parse(file, Limits::default()).expect("valid YAML")
}

fn plain(scope: Option<&str>) -> Node {
    let scope = scope.map_or(String::new(), |s| format!("stencil.dev/scope: {s}\n"));
    node(&SourceFile::new(
        "plain.yaml",
        format!("DB_PASSWORD: hunter2\n{scope}"),
    ))
}

fn checks(rules: &SopsRules) -> Checks<'_> {
    Checks {
        rules,
        history: false,
        allow_unbound: false,
        allow_recipients: false,
    }
}

fn binding(file: &Arc<SourceFile>, scope: Option<&str>, checks: &Checks<'_>) -> Result<(), Error> {
    let path = RepoPath::parse(PATH).expect("path");
    let mut plain = plain(scope);
    check_binding(&node(file), &mut plain, &path, file, false, checks)
}

const AT_SCOPE: &str = "tenants/acme/api/secrets.enc.yaml:2:1";

#[test]
fn a_file_bound_to_its_own_place_passes_and_loses_its_binding() {
    let rules = SopsRules(Ok(None));
    let file = encrypted(true);
    let path = RepoPath::parse(PATH).expect("path");
    let mut plain = plain(Some("tenants/acme/api"));
    check_binding(
        &node(&file),
        &mut plain,
        &path,
        &file,
        false,
        &checks(&rules),
    )
    .expect("bound here");
    assert!(
        plain.get("stencil.dev/scope").is_none(),
        "the binding is not a secret value"
    );
    assert!(plain.get("DB_PASSWORD").is_some());
}

#[test]
fn a_file_bound_to_another_tenant_is_refused_at_its_binding() {
    let rules = SopsRules(Ok(None));
    let got = found(binding(
        &encrypted(true),
        Some("tenants/other/api"),
        &checks(&rules),
    ));
    assert_eq!(got, [(Some("secrets-binding"), AT_SCOPE.to_owned())]);
}

#[test]
fn an_unbound_file_is_refused_unless_history_or_an_exception() {
    let rules = SopsRules(Ok(None));
    let got = found(binding(&encrypted(true), None, &checks(&rules)));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, Some("secrets-binding"));
    let history = Checks {
        history: true,
        ..checks(&rules)
    };
    assert!(found(binding(&encrypted(true), None, &history)).is_empty());
    let excepted = Checks {
        allow_unbound: true,
        ..checks(&rules)
    };
    assert!(found(binding(&encrypted(true), None, &excepted)).is_empty());
    // An exception allows a missing binding, never another place's.
    let got = found(binding(
        &encrypted(true),
        Some("tenants/other/api"),
        &excepted,
    ));
    assert_eq!(got, [(Some("secrets-binding"), AT_SCOPE.to_owned())]);
}

#[test]
fn a_binding_in_the_clear_proves_nothing_and_is_refused() {
    let rules = SopsRules(Ok(None));
    let got = found(binding(
        &encrypted(false),
        Some("tenants/acme/api"),
        &checks(&rules),
    ));
    assert_eq!(got, [(Some("secrets-binding"), AT_SCOPE.to_owned())]);
}

#[test]
fn a_recipient_the_rule_does_not_list_is_refused_at_its_line() {
    let rules = SopsRules(Ok(None));
    let file = encrypted(true);
    let path = RepoPath::parse(PATH).expect("path");
    let theirs = ["age1foreign".to_owned()];
    let listed = ["age1ours".to_owned()];
    let run = |checks: &Checks<'_>| {
        check_foreign(&theirs, &listed, "creation rule 1", &path, &file, checks)
    };
    assert_eq!(
        found(run(&checks(&rules))),
        [(
            Some("secrets-recipients"),
            "tenants/acme/api/secrets.enc.yaml:5:1".to_owned()
        )]
    );
    let excepted = Checks {
        allow_recipients: true,
        ..checks(&rules)
    };
    assert!(found(run(&excepted)).is_empty());
    let ours = ["age1ours".to_owned()];
    assert!(
        found(check_foreign(
            &ours,
            &listed,
            "creation rule 1",
            &path,
            &file,
            &checks(&rules)
        ))
        .is_empty()
    );
}
