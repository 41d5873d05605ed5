//! The example manifests the sandbox applies: `examples/` of the working directory when it
//! exists (so users can edit them), otherwise the copies embedded in the binary.

use std::path::Path;

/// The examples compiled into the binary, in apply order.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "00-namespace.yaml",
        include_str!("../../examples/00-namespace.yaml"),
    ),
    (
        "10-byo-account.yaml",
        include_str!("../../examples/10-byo-account.yaml"),
    ),
    (
        "20-managed-account.yaml",
        include_str!("../../examples/20-managed-account.yaml"),
    ),
    (
        "21-credit-grant.yaml",
        include_str!("../../examples/21-credit-grant.yaml"),
    ),
    (
        "30-number-exact.yaml",
        include_str!("../../examples/30-number-exact.yaml"),
    ),
    (
        "31-number-search-local.yaml",
        include_str!("../../examples/31-number-search-local.yaml"),
    ),
    (
        "32-number-tollfree-retain.yaml",
        include_str!("../../examples/32-number-tollfree-retain.yaml"),
    ),
    (
        "40-number-managed-gb.yaml",
        include_str!("../../examples/40-number-managed-gb.yaml"),
    ),
    (
        "41-number-managed-trial.yaml",
        include_str!("../../examples/41-number-managed-trial.yaml"),
    ),
];

/// The BringYourOwn example account's credentials (in `10-byo-account.yaml`), which the
/// sandbox's Twilio simulator knows. Simulator values, not real ones.
pub const BYO_ACCOUNT_SID: &str = "AC5a4db0c0e1f2a3b4c5d6e7f8091a2b3c";
pub const BYO_AUTH_TOKEN: &str = "sandbox-auth-token-not-a-real-secret";
/// The number the BYO account already owns at start, which `30-number-exact.yaml` adopts.
pub const PRE_OWNED_NUMBER: &str = "+14155550100";

/// Loads `(file name, text)` pairs from `dir` (`*.yaml`/`*.yml`, sorted by name), or the
/// embedded copies when `dir` does not exist.
pub fn load(dir: &Path) -> std::io::Result<(String, Vec<(String, String)>)> {
    if !dir.is_dir() {
        let docs = EMBEDDED
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        return Ok(("embedded examples".into(), docs));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        docs.push((name, std::fs::read_to_string(&path)?));
    }
    Ok((dir.display().to_string(), docs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_examples_match_the_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let (_, on_disk) = load(&dir).unwrap();
        let names: Vec<_> = on_disk.iter().map(|(n, _)| n.as_str()).collect();
        let embedded: Vec<_> = EMBEDDED.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names, embedded,
            "examples/ and the embedded list differ: update sandbox/examples.rs"
        );
        for ((_, disk), (_, emb)) in on_disk.iter().zip(EMBEDDED) {
            assert_eq!(disk, emb);
        }
    }

    #[test]
    fn byo_example_uses_the_simulator_credentials() {
        let text = EMBEDDED
            .iter()
            .find(|(n, _)| n.starts_with("10-"))
            .map(|(_, t)| *t)
            .unwrap();
        assert!(text.contains(BYO_ACCOUNT_SID));
        assert!(text.contains(BYO_AUTH_TOKEN));
        let exact = EMBEDDED
            .iter()
            .find(|(n, _)| n.starts_with("30-"))
            .map(|(_, t)| *t)
            .unwrap();
        assert!(exact.contains(PRE_OWNED_NUMBER));
    }
}
