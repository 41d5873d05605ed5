//! What the kubectl plugin's tests share: a kubeconfig for a test server and running the real
//! binary as `kubectl-telephony`.
#![allow(dead_code)] // each test crate uses part of it

use std::path::{Path, PathBuf};

/// A kubeconfig whose current context is `server` (no credentials: the emulator), namespace `ns`.
pub fn kubeconfig(dir: &Path, server: &str, ns: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: sandbox\n\
             clusters:\n- name: sandbox\n  cluster: {{server: \"{server}\"}}\n\
             users:\n- name: me\n  user: {{}}\n\
             contexts:\n- name: sandbox\n  context: {{cluster: sandbox, user: me, namespace: {ns}}}\n"
        ),
    )
    .expect("kubeconfig written");
    path
}

/// Runs the binary as `kubectl-telephony` (a symlink in `dir`, as kubectl finds plugins): exit
/// code, stdout, stderr.
pub async fn plugin(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let bin = dir.join("kubectl-telephony");
    if !bin.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_telephony-operator"), &bin)
            .expect("symlink");
    }
    let out = tokio::process::Command::new(&bin)
        .args(args)
        .output()
        .await
        .expect("kubectl-telephony runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
