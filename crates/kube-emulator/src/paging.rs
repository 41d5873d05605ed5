//! `limit`/`continue` for lists: the first paged request takes a snapshot (shared pointers to
//! the stored objects) and later pages are cut from it, so every page reflects the same
//! resourceVersion, as upstream's etcd-backed lists do. Tokens live 5 minutes; an unknown or
//! expired token answers 410 Expired. `resourceVersion=0` lists are not paged (like upstream's
//! watch-cache reads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::errors::ApiError;

const TTL: Duration = Duration::from_secs(300);

pub type Snapshot = Arc<Vec<Arc<Value>>>;

#[derive(Default)]
pub struct Pager {
    snapshots: Mutex<HashMap<String, (Instant, u64, Snapshot)>>,
}

/// One page: items, the list revision, and the continue token if more remain.
pub struct Page {
    pub items: Vec<Arc<Value>>,
    pub rv: u64,
    pub continue_token: Option<String>,
    pub remaining: usize,
}

impl Pager {
    /// Page through `fresh()` (called only when no `continue` token is given).
    pub fn page(
        &self,
        limit: Option<usize>,
        token: Option<&str>,
        fresh: impl FnOnce() -> (Vec<Arc<Value>>, u64),
    ) -> Result<Page, ApiError> {
        let mut snaps = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        snaps.retain(|_, (t, _, _)| t.elapsed() < TTL);
        let (id, offset, rv, snap) = match token.filter(|t| !t.is_empty()) {
            Some(tok) => {
                let expired = || {
                    ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    )
                };
                let (id, off) = tok.split_once(':').ok_or_else(expired)?;
                let offset: usize = off.parse().map_err(|_| expired())?;
                let (_, rv, snap) = snaps.get(id).ok_or_else(expired)?;
                (id.to_string(), offset, *rv, snap.clone())
            }
            None => {
                let (items, rv) = fresh();
                (
                    uuid::Uuid::new_v4().simple().to_string(),
                    0,
                    rv,
                    Arc::new(items),
                )
            }
        };
        let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let end = offset.saturating_add(limit).min(snap.len());
        let items = snap
            .get(offset.min(end)..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        let remaining = snap.len() - end;
        let continue_token = if remaining > 0 {
            snaps
                .entry(id.clone())
                .or_insert_with(|| (Instant::now(), rv, snap.clone()));
            Some(format!("{id}:{end}"))
        } else {
            snaps.remove(&id);
            None
        };
        Ok(Page {
            items,
            rv,
            continue_token,
            remaining,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_come_from_one_snapshot() {
        let p = Pager::default();
        let objs: Vec<Arc<Value>> = (0..5).map(|i| Arc::new(json!(i))).collect();
        let first = p.page(Some(2), None, || (objs.clone(), 7)).unwrap();
        assert_eq!((first.items.len(), first.remaining), (2, 3));
        let tok = first.continue_token.unwrap();
        let second = p
            .page(Some(2), Some(&tok), || panic!("no fresh list"))
            .unwrap();
        assert_eq!((second.items[0].as_ref(), second.rv), (&json!(2), 7));
        let third = p
            .page(Some(2), second.continue_token.as_deref(), || panic!())
            .unwrap();
        assert_eq!((third.items.len(), third.continue_token), (1, None));
        assert_eq!(
            p.page(Some(2), Some(&tok), || panic!())
                .err()
                .map(|e| e.code),
            Some(410)
        );
    }
}
