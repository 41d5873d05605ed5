//! Events are stored once, in core/v1 form, and served through both `core/v1` and
//! `events.k8s.io/v1` with the field mapping of the real API server (notes §8).

use serde_json::Value;

/// (core/v1 name, events.k8s.io/v1 name)
const MAPPING: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("reportingComponent", "reportingController"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
];

fn rename(v: &mut Value, from_core: bool) {
    let Some(m) = v.as_object_mut() else { return };
    for (core, ev1) in MAPPING {
        let (from, to) = if from_core { (core, ev1) } else { (ev1, core) };
        // A field present under the target name stays (it is already in the target form).
        if let Some(x) = m.remove(*from) {
            m.entry(to.to_string()).or_insert(x);
        }
    }
}

/// core/v1 Event → events.k8s.io/v1 Event (in place; apiVersion/kind set by the caller).
pub fn core_to_events_v1(v: &mut Value) {
    rename(v, true);
}

/// events.k8s.io/v1 Event → core/v1 Event.
pub fn events_v1_to_core(v: &mut Value) {
    rename(v, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let ev1 =
            json!({"regarding":{"name":"w"},"note":"hi","reportingController":"c","eventTime":"t"});
        let mut core = ev1.clone();
        events_v1_to_core(&mut core);
        assert_eq!(
            core,
            json!({"involvedObject":{"name":"w"},"message":"hi","reportingComponent":"c","eventTime":"t"})
        );
        core_to_events_v1(&mut core);
        assert_eq!(core, ev1);
    }
}
