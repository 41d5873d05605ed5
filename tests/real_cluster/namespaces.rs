//! The namespaces one test creates, remembered so the test can delete them all at the end
//! (through `support::with_cleanup`, also when it fails).

use crate::support::{create_namespace, delete_namespace, unique};
use kube::Client;

/// A namespace for one test, deleted (left Terminating without kube-controller-manager, which
/// is harmless: the name is unique to the run) by [`Namespaces::cleanup`].
pub struct Namespaces {
    admin: Client,
    names: Vec<String>,
}

impl Namespaces {
    pub fn new(admin: &Client) -> Self {
        Namespaces {
            admin: admin.clone(),
            names: Vec::new(),
        }
    }

    pub async fn create(&mut self, prefix: &str) -> String {
        let name = unique(prefix);
        create_namespace(&self.admin, &name).await;
        self.names.push(name.clone());
        name
    }

    pub async fn cleanup(self) {
        for name in &self.names {
            delete_namespace(&self.admin, name).await;
        }
    }
}
