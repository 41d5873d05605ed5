//! Running kubectl as the cluster admin and reading what it prints: the `Warning:` lines of
//! stderr and the tables of `kubectl get`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// kubectl from PATH, as the cluster admin, with a private HOME (discovery cache).
pub struct Kubectl {
    home: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Kubectl {
    pub fn new(kubeconfig: &Path) -> Self {
        Kubectl {
            home: tempfile::tempdir().expect("a HOME for kubectl"),
            kubeconfig: kubeconfig.to_path_buf(),
        }
    }

    /// Runs kubectl; (success, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run kubectl (is it on PATH?): {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs kubectl, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(args);
        assert!(ok, "kubectl {}: {stderr}{stdout}", args.join(" "));
        stdout
    }
}

/// The warnings kubectl passed on from the server (`Warning: ` lines of stderr).
pub fn warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("Warning: "))
        .map(str::to_string)
        .collect()
}

/// `text` with every run of whitespace made one space (kubectl explain wraps lines).
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A table printed by `kubectl get`: the header's cells, and each row cut at the header's
/// column offsets (so empty cells stay empty).
pub fn table(output: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = output.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .unwrap_or_else(|| panic!("no table: {output:?}"));
    let mut starts = Vec::new();
    let bytes = header.as_bytes();
    for i in 0..bytes.len() {
        let starts_cell = bytes[i] != b' '
            && (i == 0 || (i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b' '));
        if starts_cell {
            starts.push(i);
        }
    }
    let cut = |line: &str| -> Vec<String> {
        starts
            .iter()
            .enumerate()
            .map(|(n, &s)| {
                let end = starts
                    .get(n + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                line.get(s.min(line.len())..end)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .collect()
    };
    let names = cut(header);
    (names, lines.map(cut).collect())
}
