//! Build script: hands the git commit to the binary as `TELEPHONY_GIT_COMMIT`, for `--version`.
//!
//! The commit is `TELEPHONY_GIT_COMMIT` from the environment when set (for builds from a
//! source tarball or a container context without `.git`), else `git rev-parse --short HEAD`,
//! else `unknown`. Reruns when HEAD or the branch it points at moves.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The files whose change means HEAD moved: HEAD itself, the branch ref it names, packed-refs.
fn head_files(dir: &Path) -> Vec<PathBuf> {
    let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) else {
        return Vec::new();
    };
    let common = git(dir, &["rev-parse", "--git-common-dir"])
        .map(|c| dir.join(c))
        .unwrap_or_else(|| git_dir.clone());
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(common.join(branch));
    }
    // A path that does not exist would make Cargo rerun this script on every build.
    files.into_iter().filter(|f| f.exists()).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TELEPHONY_GIT_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    let commit = std::env::var("TELEPHONY_GIT_COMMIT")
        .ok()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .or_else(|| git(&dir, &["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    for file in head_files(&dir) {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    println!("cargo:rustc-env=TELEPHONY_GIT_COMMIT={commit}");
}
