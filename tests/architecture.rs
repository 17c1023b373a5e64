//! The shape of the source tree, checked: no import cycle between the top-level modules of
//! `src/`, and the recovery rules, the domain, the store and the worker free of HTTP and AWS
//! types. Reads the source; runs without any service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source of a file without its comments (doc comments mention other modules freely).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`src/recovery/confirm.rs` → `recovery`), or `None`
/// for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.trim_end_matches(".rs").to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Every `crate::name` and `use crate::{a, b}` the code names.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let deps = graph.entry(module.clone()).or_default();
        for name in referenced(&code(file)) {
            if name != module && modules.contains(&name) {
                deps.insert(name);
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    node: &str,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    for next in graph.get(node).into_iter().flatten() {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(start.to_owned());
            return Some(cycle);
        }
        if seen.insert(next.clone()) {
            path.push(next.clone());
            if let Some(cycle) = cycle_from(graph, start, next, path, seen) {
                return Some(cycle);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph();
    assert!(graph.len() > 8, "the modules were found: {graph:?}");
    for start in graph.keys() {
        let mut path = vec![start.clone()];
        let cycle = cycle_from(&graph, start, start, &mut path, &mut BTreeSet::new());
        assert!(
            cycle.is_none(),
            "import cycle: {}",
            cycle.unwrap().join(" → ")
        );
    }
}

#[test]
fn the_rules_the_domain_the_store_and_the_worker_know_nothing_of_http_or_aws() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for dir in ["recovery", "domain", "store", "worker", "audit", "staff"] {
        let mut files = Vec::new();
        rust_files(&src.join(dir), &mut files);
        assert!(!files.is_empty(), "{dir}");
        for file in files {
            let code = code(&file);
            for banned in ["actix_web", "aws_sdk", "aws_config", "reqwest"] {
                assert!(!code.contains(banned), "{} uses {banned}", file.display());
            }
        }
    }
}

/// `code` with the text of its string literals blanked: the words of a message or an audit
/// detail may name anything, the code may not.
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in code.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => {
                in_string = false;
                out.push(c);
            }
            (true, false, _) => {}
            (false, _, '"') => {
                in_string = true;
                out.push(c);
            }
            (false, _, _) => out.push(c),
        }
    }
    out
}

/// The identity provider is a port: the rules speak its verbs and values (`idp`), never the
/// adapter, its vendor or the vendor's names for factors and operations (the factors' names reach
/// audit details only through `MfaFactor::name`, from the port).
#[test]
fn the_recovery_rules_never_name_cognito_its_constants_or_its_operations() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("recovery"), &mut files);
    assert!(!files.is_empty());
    let banned = [
        "cognito",
        "Cognito",
        "SOFTWARE_TOKEN_MFA",
        "SMS_MFA",
        "EMAIL_OTP",
        "WEB_AUTHN",
        "AdminDeleteSoftwareToken",
        "AdminSetUserMFAPreference",
        "AdminGetUser",
        "AdminInitiateAuth",
        "AdminUserGlobalSignOut",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
    ];
    for file in &files {
        let code = without_strings(&code(file));
        for name in banned {
            assert!(!code.contains(name), "{} names {name}", file.display());
        }
    }
    // Nor do their words (audit details, logs) name the provider's operations: the adapter
    // says what it did, in `Removal::done` and in its errors.
    for file in &files {
        let words = code(file);
        for operation in ["Admin", "SoftwareToken", "cognito-idp"] {
            assert!(
                !words.contains(operation),
                "{} names the provider's operation {operation}…",
                file.display()
            );
        }
    }
    // The check sees code, not words.
    assert!(
        without_strings(r#"let x = "Cognito said \"no\""; cognito::call()"#).contains("cognito::")
    );
    assert!(!without_strings(r#"let x = "Cognito said \"no\"";"#).contains("Cognito"));
}

#[test]
fn the_cycle_check_finds_a_cycle_when_there_is_one() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.insert("store".into(), ["recovery".to_owned()].into());
    graph.insert("recovery".into(), ["store".to_owned()].into());
    let mut path = vec!["store".to_owned()];
    assert!(cycle_from(&graph, "store", "store", &mut path, &mut BTreeSet::new()).is_some());
    assert_eq!(
        referenced("use crate::{routes, store};\nlet x = crate::audit::append;"),
        ["audit", "routes", "store"].map(String::from).into()
    );
}

/// The port is in the recovery's verbs: none of its methods is a vendor operation renamed, and
/// the adapter's credentials (sessions, access tokens) stay behind `EnrollmentState`.
#[test]
fn the_identity_port_speaks_recovery_verbs() {
    let port = code(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/idp/mod.rs"));
    let start = port
        .find("pub trait IdentityProvider")
        .expect("the port's trait");
    let end = start + port[start..].find("\n}").expect("its end");
    let trait_code = &port[start..end];
    let methods: Vec<&str> = trait_code
        .match_indices("async fn ")
        .map(|(i, _)| {
            let rest = &trait_code[i + "async fn ".len()..];
            &rest[..rest.find('(').unwrap()]
        })
        .collect();
    assert!(methods.contains(&"remove_authenticator") && methods.contains(&"revoke_sessions"));
    for method in &methods {
        for vendor in [
            "software_token",
            "mfa_preference",
            "sign_out",
            "admin_",
            "auth_challenge",
            "device(",
        ] {
            assert!(
                !method.contains(vendor),
                "the port's {method} is a vendor operation"
            );
        }
    }
    for leaked in ["Session(", "AccessToken", "access_token"] {
        assert!(!trait_code.contains(leaked), "the port names {leaked}");
    }
}
