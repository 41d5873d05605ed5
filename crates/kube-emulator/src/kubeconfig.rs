//! kubeconfig text for clients (kubectl, kube-rs) pointing at a running emulator.

/// A kubeconfig with cluster/context/user `kube-emulator` and namespace `default`.
/// kubectl sends no token over plain http (notes §10); kube-rs does.
pub fn render(url: &str, token: Option<&str>) -> String {
    let user = match token {
        Some(t) => format!("{{token: \"{t}\"}}"),
        None => "{}".to_string(),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-emulator\n  cluster:\n    server: \"{url}\"\ncontexts:\n- name: kube-emulator\n  context:\n    cluster: kube-emulator\n    user: kube-emulator\n    namespace: default\ncurrent-context: kube-emulator\npreferences: {{}}\nusers:\n- name: kube-emulator\n  user: {user}\n"
    )
}
